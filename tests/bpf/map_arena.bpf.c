// BPF arena (BPF_MAP_TYPE_ARENA, Linux 6.9+): pages allocated by a program, and `__arena`
// globals, which clang puts in `.addr_space.1` and libbpf places at the end of the arena.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define __arena __attribute__((address_space(1)))

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4); /* pages */
} arena SEC(".maps");

/* Arena globals: one zero-initialised, one initialised. */
__u64 __arena arena_counter;
int __arena arena_init = 5;

/* Plain globals the user side reads: the allocated page's user-space address. */
__u64 page_address;
__u64 seen_init;

#define PAGE_MAGIC 0x1122334455667788ULL

SEC("syscall")
int arena_alloc(void *ctx)
{
	__u64 __arena *page;

	page = (__u64 __arena *)bpf_arena_alloc_pages(&arena, NULL, 1, -1, 0);
	if (!page)
		return 1;
	page[0] = PAGE_MAGIC;
	page[1] = 42;
	page[511] = 7;
	page_address = (__u64)page;
	arena_counter += 100;
	arena_init += 1;
	return 0;
}

SEC("syscall")
int arena_read(void *ctx)
{
	seen_init = arena_init;
	arena_counter += 1;
	return arena_init;
}
