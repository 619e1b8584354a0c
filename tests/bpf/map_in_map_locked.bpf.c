// A map of maps whose inner values hold a spin lock: the kernel matches the special fields of
// the inner-map template and of the map put in each slot, so both need their BTF.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct locked_value {
	struct bpf_spin_lock lock;
	__u64 count;
};

struct locked_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked_value);
};

struct locked_inner counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct locked_inner);
} locked_outer SEC(".maps") = {
	.values = { [0] = &counters },
};

SEC("syscall")
int bump_locked(void *ctx)
{
	__u32 key = 0;
	struct locked_value *value;
	void *inner = bpf_map_lookup_elem(&locked_outer, &key);

	if (!inner)
		return 1;
	value = bpf_map_lookup_elem(inner, &key);
	if (!value)
		return 2;
	bpf_spin_lock(&value->lock);
	value->count += 1;
	bpf_spin_unlock(&value->lock);
	return 0;
}
