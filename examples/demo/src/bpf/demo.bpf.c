// The demo's probes: syscalls counted per process name (raw tracepoint), and every exec
// reported through a ring buffer with its parent read by CO-RE from task_struct.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// Set by the demo before load: its own pid, so its children can be marked.
const volatile __u32 demo_pid = 0;

struct comm_key {
    char comm[16];
};

struct exec_event {
    __u32 pid;
    __u32 ppid;
    __u32 child_of_demo;
    char comm[16];
    char filename[64];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct comm_key);
    __type(value, __u64);
} syscalls_by_comm SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} exec_events SEC(".maps");

// Execs seen, including those dropped when the ring buffer was full.
__u64 execs_seen = 0;

SEC("raw_tracepoint/sys_enter")
int count_syscalls(struct bpf_raw_tracepoint_args *ctx)
{
    struct comm_key key = {};
    __u64 one = 1, *count;

    bpf_get_current_comm(key.comm, sizeof(key.comm));
    count = bpf_map_lookup_elem(&syscalls_by_comm, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&syscalls_by_comm, &key, &one, BPF_NOEXIST);
    return 0;
}

SEC("tp/sched/sched_process_exec")
int report_exec(struct trace_event_raw_sched_process_exec *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    unsigned int filename_at = ctx->__data_loc_filename & 0xffff;
    struct exec_event *event;

    __sync_fetch_and_add(&execs_seen, 1);
    event = bpf_ringbuf_reserve(&exec_events, sizeof(*event), 0);
    if (!event)
        return 0;
    event->pid = bpf_get_current_pid_tgid() >> 32;
    event->ppid = BPF_CORE_READ(task, real_parent, tgid);
    event->child_of_demo = event->ppid == demo_pid;
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    bpf_probe_read_kernel_str(event->filename, sizeof(event->filename),
                              (void *)ctx + filename_at);
    bpf_ringbuf_submit(event, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
