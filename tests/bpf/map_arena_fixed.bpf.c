// An arena at a fixed user-space address (`map_extra`, declared with libbpf's __ulong).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifndef __ulong
/* libbpf 1.3's 64-bit map attribute (Debian's libbpf-dev 1.1 lacks it). */
#define __ulong(name, val) enum { ___fixed_arena_##name = val } name
#endif

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2); /* pages */
	/* Not 4 GiB aligned: an __arena pointer whose low 32 bits are 0 is NULL. */
	__ulong(map_extra, (1ull << 44) + (1ull << 20));
} fixed_arena SEC(".maps");

__u64 page_address;

SEC("syscall")
int fixed_alloc(void *ctx)
{
	__u32 __attribute__((address_space(1))) *page;

	page = (__u32 __attribute__((address_space(1))) *)bpf_arena_alloc_pages(&fixed_arena, NULL, 1, -1, 0);
	if (!page)
		return 1;
	page[0] = 0xabcd;
	page_address = (__u64)page;
	return 0;
}
