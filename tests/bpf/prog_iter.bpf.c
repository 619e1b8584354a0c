// Task iterator: prints "<tid> <tgid>" for every thread, and counts the threads it saw.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "prog_counter.h"

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
    struct seq_file *seq = ctx->meta->seq;
    struct task_struct *task = ctx->task;

    if (!task)
        return 0;
    BPF_SEQ_PRINTF(seq, "%d %d\n", task->pid, task->tgid);
    bump(0);
    return 0;
}

SEC("iter/no_such_iterator_target")
int bad_target(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
