// A bloom filter filled by user space and probed by a program. An object of its own: kernels
// before 5.16 have no bloom filters, and the other map tests run there too.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
} seen SEC(".maps");

__u32 bloom_hits;

static __always_inline void probe(__u32 bit, __u32 v)
{
	if (bpf_map_peek_elem(&seen, &v) == 0)
		bloom_hits |= 1u << bit;
}

SEC("raw_tp/sys_enter")
int probe_seen(void *ctx)
{
	bloom_hits = 0;
	probe(0, 0); probe(1, 7); probe(2, 14); probe(3, 21);
	return 0;
}
