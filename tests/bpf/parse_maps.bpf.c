// BTF-defined maps side by side with a legacy `maps` section, map-in-map and prog-array init.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def legacy_hash SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 64,
	.map_flags = 1,
};

struct legacy_map_def legacy_array SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = 16,
	.max_entries = 4,
};

struct value_t {
	__u64 packets;
	__u64 bytes;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct value_t);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} btf_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8);
	__uint(max_entries, 2);
	__uint(numa_node, 0);
} sized_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u64);
	__uint(max_entries, 100);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

int tail_one(struct __sk_buff *skb);
int tail_two(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, int(struct __sk_buff *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&tail_two, [0] = (void *)&tail_one },
};

SEC("socket")
int tail_one(struct __sk_buff *skb)
{
	return 1;
}

SEC("socket")
int tail_two(struct __sk_buff *skb)
{
	return 2;
}

SEC("socket")
int use_maps(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *legacy = bpf_map_lookup_elem(&legacy_hash, &key);
	struct value_t *v = bpf_map_lookup_elem(&btf_hash, &key);
	void *inner = bpf_map_lookup_elem(&outer, &key);
	__u64 total = 0;

	if (legacy)
		total += *legacy;
	if (v)
		total += v->packets;
	if (inner) {
		__u32 *x = bpf_map_lookup_elem(inner, &key);
		if (x)
			total += *x;
	}
	if (bpf_map_lookup_elem(&legacy_array, &key))
		total++;
	if (bpf_map_lookup_elem(&sized_array, &key))
		total++;
	bpf_tail_call(skb, &jump_table, 0);
	return total;
}
