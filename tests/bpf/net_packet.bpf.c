// Packet-level program types; each counts into `hits` under its own key, only for UDP to
// `target_port` where it can see the packet.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "prog_counter.h"

#define TC_ACT_OK 0
#define NF_ACCEPT 1

const volatile __u16 target_port = 0;

#include "udp_match.h"

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
    if (is_target_udp((void *)(long)ctx->data, (void *)(long)ctx->data_end))
        bump(0);
    return XDP_PASS;
}

SEC("xdp")
int count_xdp_other(struct xdp_md *ctx)
{
    if (is_target_udp((void *)(long)ctx->data, (void *)(long)ctx->data_end))
        bump(10);
    return XDP_PASS;
}

SEC("xdp.frags")
int count_xdp_frags(struct xdp_md *ctx)
{
    bump(1);
    return XDP_PASS;
}

SEC("tc")
int count_tc(struct __sk_buff *skb)
{
    if (is_target_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
        bump(2);
    return TC_ACT_OK;
}

SEC("tcx/ingress")
int count_tcx(struct __sk_buff *skb)
{
    if (is_target_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
        bump(3);
    return TCX_NEXT;
}

SEC("socket")
int count_socket(struct __sk_buff *skb)
{
    bump(4);
    return skb->len;
}

SEC("netfilter")
int count_netfilter(struct bpf_nf_ctx *ctx)
{
    bump(5);
    return NF_ACCEPT;
}

SEC("flow_dissector")
int count_flow(struct __sk_buff *skb)
{
    bump(6);
    return BPF_FLOW_DISSECTOR_CONTINUE;
}

SEC("sk_lookup")
int count_lookup(struct bpf_sk_lookup *ctx)
{
    if (ctx->local_port == target_port)
        bump(7);
    return SK_PASS;
}

SEC("sk_reuseport")
int count_reuseport(struct sk_reuseport_md *md)
{
    bump(8);
    return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
