// Every exec and every exit of a process that exec'd, with how long it ran, through a ring
// buffer (as libbpf-bootstrap's "bootstrap").
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

enum event_kind {
    EVENT_EXEC = 1,
    EVENT_EXIT = 2,
};

struct event {
    enum event_kind kind;
    __u32 pid;
    __u32 ppid;
    __u32 exit_code;
    __u64 duration_ns; /* exits only */
    char comm[16];
    char filename[127];
    /* the compiler pads to 8 bytes here: the Rust type says so explicitly */
};

/* Exits of processes shorter-lived than this are not reported (set before load). */
const volatile __u64 min_duration_ns = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, pid_t);
    __type(value, __u64);
} exec_start SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Records lost because the ring buffer was full. */
__u64 dropped = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    unsigned int filename_at = ctx->__data_loc_filename & 0xffff;
    pid_t pid = bpf_get_current_pid_tgid() >> 32;
    __u64 now = bpf_ktime_get_ns();
    struct event *e;

    bpf_map_update_elem(&exec_start, &pid, &now, BPF_ANY);
    e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&dropped, 1);
        return 0;
    }
    e->kind = EVENT_EXEC;
    e->pid = pid;
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    e->exit_code = 0;
    e->duration_ns = 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + filename_at);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 id = bpf_get_current_pid_tgid();
    pid_t pid = id >> 32;
    __u64 *start, duration;
    struct event *e;

    /* Threads other than the leader exit too: only whole processes count. */
    if (pid != (__u32)id)
        return 0;
    start = bpf_map_lookup_elem(&exec_start, &pid);
    if (!start)
        return 0;
    duration = bpf_ktime_get_ns() - *start;
    bpf_map_delete_elem(&exec_start, &pid);
    if (duration < min_duration_ns)
        return 0;
    e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&dropped, 1);
        return 0;
    }
    e->kind = EVENT_EXIT;
    e->pid = pid;
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
    e->duration_ns = duration;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    e->filename[0] = 0;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
