// struct_ops: a minimal TCP congestion control (Reno-like), registered twice: through a
// `.struct_ops` map (registered by the map update) and a `.struct_ops.link` map (by a link).
// Each callback counts its calls in a global, so tests can see the kernel called it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 init_calls = 0;
__u64 ssthresh_calls = 0;
__u64 cong_avoid_calls = 0;
__u64 undo_cwnd_calls = 0;

SEC("struct_ops/test_cc_init")
void BPF_PROG(test_cc_init, struct sock *sk)
{
	__sync_fetch_and_add(&init_calls, 1);
}

SEC("struct_ops/test_cc_ssthresh")
__u32 BPF_PROG(test_cc_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u32 half = tp->snd_cwnd >> 1;

	__sync_fetch_and_add(&ssthresh_calls, 1);
	return half > 2 ? half : 2;
}

SEC("struct_ops/test_cc_cong_avoid")
void BPF_PROG(test_cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cong_avoid_calls, 1);
}

SEC("struct_ops/test_cc_undo_cwnd")
__u32 BPF_PROG(test_cc_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	__sync_fetch_and_add(&undo_cwnd_calls, 1);
	return tp->snd_cwnd;
}

SEC(".struct_ops")
struct tcp_congestion_ops bpf_test_cc = {
	.init = (void *)test_cc_init,
	.ssthresh = (void *)test_cc_ssthresh,
	.cong_avoid = (void *)test_cc_cong_avoid,
	.undo_cwnd = (void *)test_cc_undo_cwnd,
	.name = "bpf_test_cc",
};

SEC(".struct_ops.link")
struct tcp_congestion_ops bpf_test_cc_link = {
	.init = (void *)test_cc_init,
	.ssthresh = (void *)test_cc_ssthresh,
	.cong_avoid = (void *)test_cc_cong_avoid,
	.undo_cwnd = (void *)test_cc_undo_cwnd,
	.name = "bpf_test_cc_lnk",
};
