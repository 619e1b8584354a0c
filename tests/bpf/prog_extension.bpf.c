// freplace: `compute` of the syscall program `run_compute` is replaced by `compute_replaced`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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

char LICENSE[] SEC("license") = "GPL";
