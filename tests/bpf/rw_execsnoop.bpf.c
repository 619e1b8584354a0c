// In the style of libbpf-tools' execsnoop: CO-RE reads of task_struct, a per-CPU perf buffer,
// a ring buffer, rodata filters, a hash keyed by pid, and enter/exit tracepoint pairs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MAX_ARGS 8
#define ARG_SIZE 64

const volatile bool ignore_failed = true;
const volatile uid_t targ_uid = (uid_t)-1;
const volatile pid_t targ_tgid = 0;

struct event {
    pid_t pid;
    pid_t ppid;
    uid_t uid;
    int retval;
    int args_count;
    unsigned int args_size;
    char comm[TASK_COMM_LEN];
    char args[MAX_ARGS * ARG_SIZE];
};

static const struct event empty_event = {};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, pid_t);
    __type(value, struct event);
} execs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(u32));
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} rb SEC(".maps");

__u64 exec_count = 0;
__u64 exit_count;

static __always_inline bool valid_uid(uid_t uid)
{
    return uid != (uid_t)-1;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
    u64 id;
    pid_t pid, tgid;
    struct event *event;
    struct task_struct *task;
    const char **args = (const char **)(ctx->args[1]);
    const char *argp;
    uid_t uid = (u32)bpf_get_current_uid_gid();
    int i;

    if (valid_uid(targ_uid) && targ_uid != uid)
        return 0;

    id = bpf_get_current_pid_tgid();
    pid = (pid_t)id;
    tgid = id >> 32;
    if (targ_tgid && targ_tgid != tgid)
        return 0;
    if (bpf_map_update_elem(&execs, &pid, &empty_event, BPF_NOEXIST))
        return 0;

    event = bpf_map_lookup_elem(&execs, &pid);
    if (!event)
        return 0;

    event->pid = tgid;
    event->uid = uid;
    task = (struct task_struct *)bpf_get_current_task();
    event->ppid = (pid_t)BPF_CORE_READ(task, real_parent, tgid);
    event->args_count = 0;
    event->args_size = 0;

    for (i = 0; i < MAX_ARGS; i++) {
        long n;
        bpf_probe_read_user(&argp, sizeof(argp), &args[i]);
        if (!argp)
            break;
        n = bpf_probe_read_user_str(&event->args[i * ARG_SIZE], ARG_SIZE, argp);
        if (n < 0)
            break;
        event->args_count++;
        event->args_size += n;
    }
    __sync_fetch_and_add(&exec_count, 1);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
    u64 id;
    pid_t pid;
    int ret;
    struct event *event, *out;

    id = bpf_get_current_pid_tgid();
    pid = (pid_t)id;
    event = bpf_map_lookup_elem(&execs, &pid);
    if (!event)
        return 0;
    ret = ctx->ret;
    if (ignore_failed && ret < 0)
        goto cleanup;

    event->retval = ret;
    bpf_get_current_comm(&event->comm, sizeof(event->comm));
    bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, event, sizeof(*event));
    out = bpf_ringbuf_reserve(&rb, sizeof(*out), 0);
    if (out) {
        __builtin_memcpy(out, event, sizeof(*out));
        bpf_ringbuf_submit(out, 0);
    }
    __sync_fetch_and_add(&exit_count, 1);
cleanup:
    bpf_map_delete_elem(&execs, &pid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
