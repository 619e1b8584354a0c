// Counts syscalls per process name; the demo prints the busiest processes.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct comm_key {
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct comm_key);
    __type(value, __u64);
} syscalls_by_comm SEC(".maps");

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

char LICENSE[] SEC("license") = "GPL";
