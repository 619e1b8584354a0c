// struct_ops: a map for a struct no kernel has, next to a program and a global that do not
// depend on it; and a struct_ops program no map uses.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct bpf_test_missing_ops {
	int (*run)(void);
	char name[16];
};

__u64 filter_runs = 0;

SEC("struct_ops/missing_run")
int BPF_PROG(missing_run)
{
	return 0;
}

SEC("struct_ops/orphan")
int BPF_PROG(orphan_run)
{
	return 0;
}

SEC(".struct_ops")
struct bpf_test_missing_ops missing_ops = {
	.run = (void *)missing_run,
	.name = "missing",
};

SEC("socket")
int still_loads(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&filter_runs, 1);
	return 7;
}
