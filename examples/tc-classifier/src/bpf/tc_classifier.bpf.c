// A tc ingress classifier: UDP datagrams to `blocked_port` are dropped, everything else passes;
// each verdict is counted per (protocol, destination port).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

enum verdict {
    VERDICT_PASS = 0,
    VERDICT_DROP = 1,
};

struct port_key {
    __u16 port; /* host byte order */
    __u8 protocol;
    __u8 verdict; /* enum verdict */
};

/* Set by user space before load. */
const volatile __u16 blocked_port = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct port_key);
    __type(value, __u64);
} verdicts SEC(".maps");

static void count(__u16 port, __u8 protocol, enum verdict verdict)
{
    struct port_key key = { .port = port, .protocol = protocol, .verdict = verdict };
    __u64 one = 1, *n = bpf_map_lookup_elem(&verdicts, &key);

    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&verdicts, &key, &one, BPF_NOEXIST);
}

SEC("tc")
int classify(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    __u16 port;

    if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
    if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
        return TC_ACT_OK;
    /* Both headers start with source then destination port. */
    __u16 *ports = (void *)ip + ip->ihl * 4;
    if ((void *)(ports + 2) > data_end)
        return TC_ACT_OK;
    port = bpf_ntohs(ports[1]);
    if (ip->protocol == IPPROTO_UDP && port == blocked_port) {
        count(port, ip->protocol, VERDICT_DROP);
        return TC_ACT_SHOT;
    }
    count(port, ip->protocol, VERDICT_PASS);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
