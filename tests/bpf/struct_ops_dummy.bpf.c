// struct_ops: the kernel's test struct bpf_dummy_ops, whose programs BPF_PROG_TEST_RUN can run
// without registering them. test_sleepable is sleepable, and missing before Linux 6.3.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/test_1")
int BPF_PROG(dummy_test_1, struct bpf_dummy_ops_state *state)
{
	if (!state)
		return 0x1234;
	return state->val + 1;
}

SEC("struct_ops/test_2")
int BPF_PROG(dummy_test_2, struct bpf_dummy_ops_state *state, int a1, unsigned short a2,
	     char a3, unsigned long a4)
{
	return a1 + a2 + a3 + (int)a4;
}

SEC("struct_ops.s/test_sleepable")
int BPF_PROG(dummy_test_sleepable, struct bpf_dummy_ops_state *state)
{
	return 0;
}

SEC(".struct_ops")
struct bpf_dummy_ops dummy_ops = {
	.test_1 = (void *)dummy_test_1,
	.test_2 = (void *)dummy_test_2,
	.test_sleepable = (void *)dummy_test_sleepable,
};
