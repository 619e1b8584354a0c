// freplace: `compute` of the syscall program `run_compute` is replaced by `compute_replaced`;
// fentry: `trace_compute` traces it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct args {
    __u32 x;
};

__noinline int compute(__u32 x)
{
    return x + 1;
}

SEC("syscall")
int run_compute(struct args *ctx)
{
    return compute(ctx->x);
}

SEC("freplace/compute")
int compute_replaced(__u32 x)
{
    return x * 100;
}

__u64 traced_calls;
__u32 traced_last_x;

// fentry on a function of a loaded BPF program (the target is chosen at load).
SEC("fentry/compute")
int BPF_PROG(trace_compute, __u32 x)
{
    __sync_fetch_and_add(&traced_calls, 1);
    traced_last_x = x;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
