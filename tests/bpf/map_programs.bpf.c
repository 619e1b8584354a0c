// Maps filled and read by programs, for the typed map API tests (run with BPF_PROG_TEST_RUN).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} input SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} events_queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

const volatile __u32 multiplier = 1;
__u32 scale = 2;
__u64 input_sum;
__u64 runs;
__s64 stack_id = -1;
__u32 tail_called;

struct record {
	__u32 seq;
	__u32 value;
};

static __always_inline void put_count(__u32 i)
{
	__u64 v = (__u64)i * 10 * multiplier;
	bpf_map_update_elem(&counts, &i, &v, BPF_ANY);
}

static __always_inline void add_input(__u32 i)
{
	__u32 *v = bpf_map_lookup_elem(&input, &i);
	if (v)
		input_sum += *v * scale;
}

static __always_inline void emit(__u32 seq, int discard)
{
	struct record *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r)
		return;
	r->seq = seq;
	r->value = (__u32)runs;
	if (discard)
		bpf_ringbuf_discard(r, 0);
	else
		bpf_ringbuf_submit(r, 0);
}

#define FOUR(f, base) f(base); f(base + 1); f(base + 2); f(base + 3)

SEC("raw_tp/sys_enter")
int fill(void *ctx)
{
	__u32 zero = 0, q;
	__u64 *hits;

	runs++;
	FOUR(put_count, 0); FOUR(put_count, 4); FOUR(put_count, 8); FOUR(put_count, 12);
	hits = bpf_map_lookup_elem(&percpu_hits, &zero);
	if (hits)
		*hits += 1;
	input_sum = 0;
	FOUR(add_input, 0); FOUR(add_input, 4);
	q = 100; bpf_map_push_elem(&events_queue, &q, BPF_EXIST);
	q = 101; bpf_map_push_elem(&events_queue, &q, BPF_EXIST);
	q = 102; bpf_map_push_elem(&events_queue, &q, BPF_EXIST);
	emit(0, 0); emit(1, 0); emit(2, 1); emit(3, 0); emit(4, 0);
	stack_id = bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

SEC("raw_tp/sys_enter")
int jump(void *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1);
	return 1;
}

SEC("raw_tp/sys_enter")
int target(void *ctx)
{
	tail_called = 42;
	return 7;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

__u32 perf_seq;

SEC("raw_tp/sys_enter")
int perf_out(void *ctx)
{
	struct record r = { .seq = perf_seq++, .value = bpf_get_smp_processor_id() };

	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &r, sizeof(r));
	return 0;
}
