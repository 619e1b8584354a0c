// A syscall program run with BPF_PROG_TEST_RUN: reads and writes its context.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct args {
    __u32 a;
    __u32 b;
    __u64 product;
};

SEC("syscall")
int multiply(struct args *ctx)
{
    ctx->product = (__u64)ctx->a * ctx->b;
    return ctx->a + ctx->b;
}

char LICENSE[] SEC("license") = "GPL";
