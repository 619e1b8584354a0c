// bpf-to-bpf calls: static and global subprograms, chains, callbacks through bpf_loop.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} results SEC(".maps");

__u64 total;

static __noinline __u64 leaf(__u64 x)
{
	return x * 7;
}

static __noinline __u64 middle(__u64 x)
{
	return leaf(x) + leaf(x + 1);
}

__noinline int global_sub(int x)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&results, &key);

	if (v)
		*v += x;
	return x + 1;
}

static int loop_body(__u32 index, void *ctx)
{
	total += middle(index);
	return 0;
}

static int other_body(__u32 index, void *ctx)
{
	total += index;
	return index > 3;
}

SEC("xdp")
int entry_calls(struct xdp_md *ctx)
{
	return (int)middle(global_sub(1)) & 1 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int entry_loop(struct xdp_md *ctx)
{
	bpf_loop(8, loop_body, 0, 0);
	bpf_loop(8, other_body, 0, 0);
	return XDP_PASS;
}

SEC("tc")
int entry_leaf_only(struct __sk_buff *skb)
{
	return (int)leaf(skb->len);
}

SEC("tc")
int entry_no_calls(struct __sk_buff *skb)
{
	return 0;
}
