// A stack-trace map left for user space to size (depth and entries), the way profilers declare
// theirs, and a perf_event program using it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __type(key, u32);
} stacks SEC(".maps");

SEC("perf_event")
int sample_stack(struct bpf_perf_event_data *ctx)
{
    bpf_get_stackid(ctx, &stacks, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
