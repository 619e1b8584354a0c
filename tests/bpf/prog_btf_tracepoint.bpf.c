// tp_btf/sys_enter: counts the test thread's syscalls, and its getpid calls (x86-64 number 39)
// by the typed `id` argument.
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
    if (id == 39)
        bump(1);
    return 0;
}

SEC("tp_btf/no_such_tracepoint_xyz")
int BPF_PROG(on_nothing)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
