// tp_btf/sys_enter: counts the test thread's syscalls, and its getpid calls by the typed `id`
// argument (the syscall number: 39 on x86-64, 172 on arm64).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "prog_counter.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
    if (!is_target_thread())
        return 0;
    bump(0);
    if (id == NR_GETPID)
        bump(1);
    return 0;
}

SEC("tp_btf/no_such_tracepoint_xyz")
int BPF_PROG(on_nothing)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
