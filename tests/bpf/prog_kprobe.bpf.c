// kprobe / kretprobe / ksyscall / kprobe.multi on the getpid syscall of the test thread.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "prog_counter.h"

SEC("kprobe/" SYS_GETPID)
int on_entry(struct pt_regs *ctx)
{
    if (!is_target_thread())
        return 0;
    bump(0);
    // bpf cookies came with Linux 5.15; elsewhere the call is dead code the verifier drops.
    if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_attach_cookie))
        record(3, bpf_get_attach_cookie(ctx));
    return 0;
}

SEC("kretprobe/" SYS_GETPID)
int on_return(struct pt_regs *ctx)
{
    if (is_target_thread())
        bump(1);
    return 0;
}

// BPF_KSYSCALL as libbpf users write it (getppid takes no argument; the one declared is unread):
// it reads the LINUX_HAS_SYSCALL_WRAPPER kconfig value the loader computes.
SEC("ksyscall/getppid")
int BPF_KSYSCALL(on_syscall, long ignored)
{
    if (is_target_thread())
        bump(2);
    return 0;
}

SEC("kprobe.multi/" SYS_GETPID)
int on_multi(struct pt_regs *ctx)
{
    if (is_target_thread())
        bump(4);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
