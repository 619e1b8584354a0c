// A sampling CPU profiler: at each perf event sample, the running task's user and kernel stacks
// are counted per (process, stacks).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_DEPTH 127

struct sample_key {
    __u32 pid;
    __s32 user_stack; /* stack id, or a negative errno (no user stack in kernel threads) */
    __s32 kernel_stack;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 16384);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct sample_key);
    __type(value, __u64);
} samples SEC(".maps");

/* Only this process is sampled when set (0: every process); set before load. */
const volatile __u32 only_pid = 0;

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
    struct sample_key key = {};
    __u64 one = 1, *count;

    key.pid = bpf_get_current_pid_tgid() >> 32;
    if (key.pid == 0 || (only_pid && key.pid != only_pid))
        return 0;
    key.user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
    key.kernel_stack = bpf_get_stackid(ctx, &stacks, 0);
    bpf_get_current_comm(key.comm, sizeof(key.comm));
    count = bpf_map_lookup_elem(&samples, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&samples, &key, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
