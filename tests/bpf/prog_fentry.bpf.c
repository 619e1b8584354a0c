// fentry / fexit / fmod_ret on syscall entry points, filtered on the test thread.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "prog_counter.h"

SEC("fentry/" SYS_GETPID)
int BPF_PROG(fentry_getpid, const struct pt_regs *regs)
{
    if (is_target_thread())
        bump(0);
    return 0;
}

SEC("fexit/" SYS_GETPID)
int BPF_PROG(fexit_getpid, const struct pt_regs *regs, long ret)
{
    if (!is_target_thread())
        return 0;
    bump(1);
    record(2, ret);
    return 0;
}

// Opening a file fails with EACCES on the test thread while this is attached (LSM hooks are
// modifiable; syscall entry points are not in every kernel's BTF).
SEC("fmod_ret/security_file_open")
int BPF_PROG(fmod_ret_file_open, struct file *file, int ret)
{
    if (!is_target_thread())
        return ret;
    bump(3);
    return -13;
}

SEC("fentry/no_such_kernel_function_xyz")
int BPF_PROG(fentry_missing)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
