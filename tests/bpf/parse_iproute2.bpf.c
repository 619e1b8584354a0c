// iproute2-style legacy maps: struct bpf_elf_map records (28 bytes: with id and pinning).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
};

struct bpf_elf_map counters SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 2,
	.id = 7,
	.pinning = 2,
};

struct bpf_elf_map private_map SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 8,
	.size_value = 4,
	.max_elem = 16,
};

SEC("classifier")
int cls_main(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&counters, &key);
	__u64 k2 = 1;

	if (count)
		__sync_fetch_and_add(count, 1);
	return bpf_map_lookup_elem(&private_map, &k2) ? 1 : 0;
}
