// Global data: .data, .rodata, .bss and custom .data.* / .rodata.* sections.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 threshold = 10;
const volatile __u64 magic = 0x1122334455667788ULL;
int counter = 7;
__u64 hits;
__u64 big_table[8];
int custom_data SEC(".data.custom") = 42;
const volatile char name_prefix[8] SEC(".rodata.config") = "abc";
static int static_counter = 3;

SEC("xdp")
int use_globals(struct xdp_md *ctx)
{
	counter++;
	hits += threshold;
	big_table[3] = magic;
	custom_data += name_prefix[1];
	static_counter++;
	return hits > static_counter ? XDP_PASS : XDP_DROP;
}
