// netkit programs: count UDP datagrams to `target_port` that each side of a netkit pair sends.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// NETKIT_NEXT of <linux/if_link.h>'s enum netkit_action: run the next program, then the policy.
#define NK_NEXT (-1)

const volatile __u16 target_port = 0;

__u64 primary_hits = 0;
__u64 peer_hits = 0;

// netkit frames carry an Ethernet header in both L2 and L3 mode.
#include "udp_match.h"

SEC("netkit/primary")
int count_primary(struct __sk_buff *skb)
{
    if (is_target_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
        __sync_fetch_and_add(&primary_hits, 1);
    return NK_NEXT;
}

SEC("netkit/peer")
int count_peer(struct __sk_buff *skb)
{
    if (is_target_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
        __sync_fetch_and_add(&peer_hits, 1);
    return NK_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
