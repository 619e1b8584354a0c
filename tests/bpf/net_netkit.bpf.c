// netkit programs: count UDP datagrams to `target_port` that each side of a netkit pair sends.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define IPPROTO_UDP_NUM 17
// NETKIT_NEXT of <linux/if_link.h>'s enum netkit_action: run the next program, then the policy.
#define NK_NEXT (-1)

const volatile __u16 target_port = 0;

__u64 primary_hits = 0;
__u64 peer_hits = 0;

// netkit frames carry an Ethernet header in both L2 and L3 mode.
static __always_inline int is_target_udp(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *udp;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return 0;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP_NUM || ip->ihl != 5)
        return 0;
    udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > data_end)
        return 0;
    return udp->dest == bpf_htons(target_port);
}

SEC("netkit/primary")
int count_primary(struct __sk_buff *skb)
{
    if (is_target_udp(skb))
        __sync_fetch_and_add(&primary_hits, 1);
    return NK_NEXT;
}

SEC("netkit/peer")
int count_peer(struct __sk_buff *skb)
{
    if (is_target_udp(skb))
        __sync_fetch_and_add(&peer_hits, 1);
    return NK_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
