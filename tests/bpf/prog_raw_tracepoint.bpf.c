// Counts the syscalls of one thread (set from user space) at the sys_enter raw tracepoint.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

SEC("raw_tp/sys_enter")
int count_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 key = 0;
    __u64 one = 1, *count;

    if ((__u32)bpf_get_current_pid_tgid() != target_tid)
        return 0;
    count = bpf_map_lookup_elem(&hits, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&hits, &key, &one, BPF_NOEXIST);
    return 0;
}

// Rejected by the verifier: reads through a map value pointer without a NULL check.
SEC("raw_tp/sys_enter")
int unchecked_lookup(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 key = 0;
    __u64 *count = bpf_map_lookup_elem(&hits, &key);

    return *count;
}

SEC("this_is_not_a_section/at_all")
int mystery(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
