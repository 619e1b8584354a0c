// USDT probes of the test binary (emitted by Rust inline asm in tests/tests/prog_usdt.rs),
// read through libbpf's <bpf/usdt.bpf.h>: BPF_USDT arguments, bpf_usdt_arg_cnt, bpf_usdt_cookie.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

const volatile __u32 target_tid = 0;

// usdt_test:args, four arguments (register, signed register, memory, constant).
__u64 args_hits;
long args_seen[4];
long args_count;
long args_cookie;
// usdt_test:guarded, one argument, behind a semaphore.
__u64 guarded_hits;
long guarded_arg;

static int mine(void)
{
    return (__u32)bpf_get_current_pid_tgid() == target_tid;
}

SEC("usdt")
int BPF_USDT(on_args, long a, long b, long c, long d)
{
    if (!mine())
        return 0;
    args_seen[0] = a;
    args_seen[1] = b;
    args_seen[2] = c;
    args_seen[3] = d;
    args_count = bpf_usdt_arg_cnt(ctx);
    args_cookie = bpf_usdt_cookie(ctx);
    __sync_fetch_and_add(&args_hits, 1);
    return 0;
}

// The target is the test binary itself, as the process sees it.
SEC("usdt//proc/self/exe:usdt_test:guarded")
int BPF_USDT(on_guarded, long x)
{
    if (!mine())
        return 0;
    guarded_arg = x;
    __sync_fetch_and_add(&guarded_hits, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
