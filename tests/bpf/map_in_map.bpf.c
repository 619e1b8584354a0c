// Maps of maps declared with __array(values, ...): a program reads through the outer map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner first SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &first },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} by_key SEC(".maps");

__u64 seen_slot0, seen_slot1, seen_key9;

static __always_inline __u64 read_inner(void *inner)
{
	__u32 zero = 0;
	__u64 *v;

	if (!inner)
		return (__u64)-1;
	v = bpf_map_lookup_elem(inner, &zero);
	return v ? *v : (__u64)-2;
}

SEC("raw_tp/sys_enter")
int read_through(void *ctx)
{
	__u32 zero = 0, one = 1, nine = 9;

	seen_slot0 = read_inner(bpf_map_lookup_elem(&outer, &zero));
	seen_slot1 = read_inner(bpf_map_lookup_elem(&outer, &one));
	seen_key9 = read_inner(bpf_map_lookup_elem(&by_key, &nine));
	return 0;
}
