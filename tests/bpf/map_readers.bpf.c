// Producers for the ring buffer, perf buffer and user ring buffer readers (tests and
// `cargo xtask bench-readers`), run with BPF_PROG_TEST_RUN on chosen CPUs.
//
// Every record starts with `struct record`; the payload after it is 64-bit words, word i being
// (producer << 48 | seq << 16 | i), cut at the record's length.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_RECORD 8192
#define MAX_WORDS (MAX_RECORD / 8)
#define MAX_PRODUCERS 64

enum target { TO_RING = 0, TO_PERF = 1, TO_RING_B = 2 };

struct record {
	__u32 producer;
	__u32 seq;
	__u32 len;   /* whole record, header included */
	__u32 pad;
	__u64 pos;   /* ring buffers: the producer position before the record */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} ring_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 64 * 1024);
} user_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_RECORD);
} scratch SEC(".maps");

/* Per producer: the next sequence number, and how many records the buffer refused. */
__u32 next_seq[MAX_PRODUCERS];
__u64 dropped[MAX_PRODUCERS];
/* Records the user ring buffer drain echoed, and those it could not echo. */
__u64 echoed;
__u64 echo_failed;

/* Record lengths cycled through when no fixed size is asked: header only, unaligned, the
 * benchmark sizes, larger than a page. */
static const __u32 sizes[8] = { 24, 29, 64, 100, 1024, 4093, 5000, 7000 };

struct emit_state {
	void *ctx;
	__u32 producer;
	__u32 target;
	__u32 size;          /* 0: cycle through `sizes` */
	__u32 discard_every; /* reserve and discard a record before every n-th one (0: never) */
	__u32 fill;          /* 0: leave the payload as it is (benchmarks) */
	__u32 emitted;
};

static __always_inline __u64 ring_pos(__u32 target)
{
	if (target == TO_RING)
		return bpf_ringbuf_query(&ring, BPF_RB_PROD_POS);
	if (target == TO_RING_B)
		return bpf_ringbuf_query(&ring_b, BPF_RB_PROD_POS);
	return 0;
}

static __always_inline void discard_one(__u32 target)
{
	void *junk;

	if (target == TO_RING)
		junk = bpf_ringbuf_reserve(&ring, 512, 0);
	else if (target == TO_RING_B)
		junk = bpf_ringbuf_reserve(&ring_b, 512, 0);
	else
		return;
	if (junk)
		bpf_ringbuf_discard(junk, 0);
}

static long emit_one(__u32 index, struct emit_state *st)
{
	__u32 zero = 0, producer = st->producer & (MAX_PRODUCERS - 1);
	struct record *r;
	__u64 *words;
	__u32 seq, len, n;
	long err;

	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 1;
	seq = next_seq[producer]++;
	len = st->size ? st->size : sizes[seq & 7];
	len &= MAX_RECORD - 1;
	if (len < sizeof(*r))
		len = sizeof(*r);
	if (st->discard_every && seq % st->discard_every == 0)
		discard_one(st->target);
	r->producer = st->producer;
	r->seq = seq;
	r->len = len;
	r->pad = 0;
	r->pos = ring_pos(st->target);
	if (st->fill) {
		words = (__u64 *)r;
		n = (len + 7) / 8;
		for (__u32 i = sizeof(*r) / 8; i < MAX_WORDS; i++) {
			if (i >= n)
				break;
			words[i] = (__u64)st->producer << 48 | (__u64)seq << 16 | i;
		}
	}
	if (st->target == TO_PERF)
		err = bpf_perf_event_output(st->ctx, &perf, BPF_F_CURRENT_CPU, r, len);
	else if (st->target == TO_RING_B)
		err = bpf_ringbuf_output(&ring_b, r, len, 0);
	else
		err = bpf_ringbuf_output(&ring, r, len, 0);
	if (err)
		dropped[producer]++;
	else
		st->emitted++;
	return 0;
}

/* args: producer, count, target, size (0: cycle), discard_every, fill. Returns how many
 * records the buffer took. */
SEC("raw_tp/sys_enter")
int emit(struct bpf_raw_tracepoint_args *ctx)
{
	struct emit_state st = {
		.ctx = ctx,
		.producer = ctx->args[0],
		.target = ctx->args[2],
		.size = ctx->args[3],
		.discard_every = ctx->args[4],
		.fill = ctx->args[5],
	};

	bpf_loop(ctx->args[1], emit_one, &st, 0);
	return st.emitted;
}

static long echo_one(struct bpf_dynptr *record, void *unused)
{
	__u32 zero = 0, len;
	struct record *r;

	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 1;
	if (bpf_dynptr_read(r, sizeof(*r), record, 0, 0)) {
		echo_failed++;
		return 0;
	}
	/* Masked, not compared: the verifier needs the bound on the register it is given. */
	len = r->len & (MAX_RECORD - 1);
	if (len < sizeof(*r) || bpf_dynptr_read(r, len, record, 0, 0)) {
		echo_failed++;
		return 0;
	}
	if (bpf_ringbuf_output(&ring, r, len, 0))
		echo_failed++;
	else
		echoed++;
	return 0;
}

/* Drains the user ring buffer, echoing each record (its header's `len` bytes) to `ring`.
 * Returns how many records were drained. */
SEC("raw_tp/sys_enter")
int echo_user(void *ctx)
{
	return bpf_user_ringbuf_drain(&user_ring, echo_one, NULL, 0);
}
