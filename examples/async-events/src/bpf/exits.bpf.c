// Every process exit reported through a ring buffer: its exit code and lifetime read by CO-RE
// from task_struct, its parent's pid so the example can pick out its own children.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// Set by the example before load: its own pid.
const volatile __u32 watcher_pid = 0;

struct exit_event {
    __u32 pid;
    __u32 ppid;
    __u32 exit_code;
    __u32 child_of_watcher;
    __u64 lifetime_ns;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} exit_events SEC(".maps");

// Exits seen, including those dropped when the ring buffer was full.
__u64 exits_seen = 0;

SEC("tp/sched/sched_process_exit")
int report_exit(void *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct exit_event *event;

    // Threads other than the leader end a process only when the leader goes.
    if ((__u32)pid_tgid != (__u32)(pid_tgid >> 32))
        return 0;
    __sync_fetch_and_add(&exits_seen, 1);
    event = bpf_ringbuf_reserve(&exit_events, sizeof(*event), 0);
    if (!event)
        return 0;
    event->pid = pid_tgid >> 32;
    event->ppid = BPF_CORE_READ(task, real_parent, tgid);
    event->exit_code = BPF_CORE_READ(task, exit_code) >> 8;
    event->child_of_watcher = event->ppid == watcher_pid;
    event->lifetime_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    bpf_ringbuf_submit(event, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
