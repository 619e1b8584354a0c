// CO-RE: a local view of task_struct with different offsets and a field the kernel lacks.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct___local {
	int pad;
	int tgid;
	int nonexistent_field_xyz;
} __attribute__((preserve_access_index));

__u64 out_tgid;
__u64 out_exists;

static __noinline int missing_field_exists(struct task_struct___local *t)
{
	return bpf_core_field_exists(t->nonexistent_field_xyz);
}

SEC("raw_tp/sys_enter")
int read_tgid(void *ctx)
{
	struct task_struct___local *t = (void *)bpf_get_current_task();

	out_tgid = BPF_CORE_READ(t, tgid);
	out_exists = missing_field_exists(t);
	return 0;
}
