// fentry / fexit / fmod_ret on syscall entry points, filtered on the test thread.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "prog_counter.h"

SEC("fentry/__x64_sys_getpid")
int BPF_PROG(fentry_getpid, const struct pt_regs *regs)
{
    if (is_target_thread())
        bump(0);
    return 0;
}

SEC("fexit/__x64_sys_getpid")
int BPF_PROG(fexit_getpid, const struct pt_regs *regs, long ret)
{
    if (!is_target_thread())
        return 0;
    bump(1);
    record(2, ret);
    return 0;
}

// getppid() of the test thread returns 4242 while this is attached.
SEC("fmod_ret/__x64_sys_getppid")
int BPF_PROG(fmod_ret_getppid, const struct pt_regs *regs, long ret)
{
    if (!is_target_thread())
        return 0;
    bump(3);
    return 4242;
}

SEC("fentry/no_such_kernel_function_xyz")
int BPF_PROG(fentry_missing)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
