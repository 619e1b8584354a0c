// lsm/file_open: counts the test thread's opens.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "prog_counter.h"

SEC("lsm/file_open")
int BPF_PROG(count_opens, struct file *file)
{
    if (is_target_thread())
        bump(0);
    return 0;
}

SEC("lsm/no_such_hook_xyz")
int BPF_PROG(missing_hook)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
