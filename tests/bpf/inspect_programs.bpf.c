// Objects for bpf-inspect's tests: maps with struct, enum, array and bitfield values (one
// per-CPU), and a raw tracepoint program that uses them, attached through a bpf_link.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum conn_state { CONN_IDLE = 0, CONN_RUNNING = 3, CONN_STOPPED = 9 };

struct conn {
	__u32 saddr;
	__u16 port;
	__u16 flags : 4, prio : 12;
	enum conn_state state;
	char comm[8];
	__u64 bytes[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct conn);
} per_cpu_conns SEC(".maps");

const volatile __u32 target_tid = 0;

SEC("raw_tp/sys_enter")
int inspect_sys_enter(void *ctx)
{
	__u32 key = 1;
	struct conn *c;

	if ((__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	c = bpf_map_lookup_elem(&conns, &key);
	if (c)
		c->bytes[0]++;
	c = bpf_map_lookup_elem(&per_cpu_conns, &key);
	if (c)
		c->bytes[1]++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
