// CO-RE against the running kernel: ten programs reading kernel structs through vmlinux.h.
// The -DTARGET build is unused (the target is /sys/kernel/btf/vmlinux).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Pre-5.14 name of task_struct::__state: absent on this kernel. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

__u64 out[16];

SEC("raw_tp/sched_switch")
int task_ids(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[1];

	out[0] = BPF_CORE_READ(t, pid) + BPF_CORE_READ(t, tgid);
	return 0;
}

SEC("raw_tp/sched_switch")
int parent(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[2];

	out[1] = BPF_CORE_READ(t, real_parent, tgid);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int mm_args(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[0];

	out[2] = BPF_CORE_READ(t, mm, arg_start);
	return 0;
}

SEC("raw_tp/sched_switch")
int creds(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[1];

	out[3] = BPF_CORE_READ(t, cred, uid.val);
	return 0;
}

SEC("raw_tp/sched_switch")
int comm(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[1];

	bpf_core_read(&out[4], 8, &t->comm);
	return 0;
}

SEC("raw_tp/sched_switch")
int files(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[1];

	out[5] = (long)BPF_CORE_READ(t, files, fdt, fd);
	return 0;
}

SEC("raw_tp/sched_switch")
int old_state(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[1];
	struct task_struct___old *old = (void *)t;

	if (bpf_core_field_exists(old->state))
		out[6] = BPF_CORE_READ(old, state);
	else
		out[6] = BPF_CORE_READ(t, __state);
	return 0;
}

SEC("tc")
int skb_len(struct __sk_buff *ctx)
{
	struct sk_buff *skb = (void *)(long)ctx->data_meta;

	out[7] = BPF_CORE_READ(skb, len) + BPF_CORE_READ(skb, sk, __sk_common.skc_family);
	return 0;
}

SEC("raw_tp/sys_enter")
int syscall_nr(struct bpf_raw_tracepoint_args *ctx)
{
	out[8] = ctx->args[1];
	out[9] = bpf_core_type_exists(struct task_struct);
	return 0;
}

SEC("raw_tp/sys_enter")
int enums(struct bpf_raw_tracepoint_args *ctx)
{
	out[10] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_ARRAY);
	out[11] = bpf_core_type_size(struct task_struct);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
