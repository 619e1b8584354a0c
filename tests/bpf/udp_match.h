// Shared by the packet-level test programs: is this an Ethernet + IPv4 + UDP frame sent to
// `target_port` (a `const volatile` the including file defines)?
#ifndef UDP_MATCH_H
#define UDP_MATCH_H

#define ETH_P_IP 0x0800
#define IPPROTO_UDP_NUM 17

static __always_inline int is_target_udp(void *data, void *data_end)
{
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

#endif
