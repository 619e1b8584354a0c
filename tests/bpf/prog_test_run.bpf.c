// One program per type that BPF_PROG_TEST_RUN runs: each return value (and output) depends on
// the input, so a test proves the program ran on what it was given. Plus a misaligned packet
// read for the load flags (BPF_F_STRICT_ALIGNMENT refuses it).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define ETH_HLEN 14
#define BPF_OK_RET 0
#define BPF_DROP_RET 2

// Socket filter: the skb length (after the Ethernet header) times 256 plus the first byte.
SEC("socket")
int run_socket(struct __sk_buff *skb)
{
    __u8 first = 0;
    bpf_skb_load_bytes(skb, 0, &first, 1);
    return skb->len * 256 + first;
}

// tc: inverts byte 14 of the frame and returns byte 15.
SEC("tc")
int run_tc(struct __sk_buff *skb)
{
    __u8 *data = (void *)(long)skb->data;
    __u8 *end = (void *)(long)skb->data_end;
    if (data + 16 > end)
        return -1;
    data[14] = ~data[14];
    return data[15];
}

// tc with a context: priority = 2 * mark, returns the mark.
SEC("tc")
int run_tc_context(struct __sk_buff *skb)
{
    skb->priority = skb->mark * 2;
    return skb->mark;
}

// tc action: the frame's length.
SEC("action")
int run_action(struct __sk_buff *skb)
{
    return skb->len;
}

// XDP: swaps the two MAC addresses; XDP_TX for IPv4, XDP_PASS otherwise.
SEC("xdp")
int run_xdp(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    __u8 *end = (void *)(long)ctx->data_end;
    if (data + ETH_HLEN > end)
        return XDP_ABORTED;
    for (int i = 0; i < 6; i++) {
        __u8 byte = data[i];
        data[i] = data[i + 6];
        data[i + 6] = byte;
    }
    return data[12] == 0x08 && data[13] == 0x00 ? XDP_TX : XDP_PASS;
}

// XDP reading a 4-byte word at an odd offset: fine unless alignment is checked strictly.
SEC("xdp")
int misaligned_xdp(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    __u8 *end = (void *)(long)ctx->data_end;
    if (data + 19 > end)
        return XDP_ABORTED;
    __u32 word = *(__u32 *)(data + 15);
    return word == 0 ? XDP_DROP : XDP_PASS;
}

// cgroup_skb: allows frames whose byte 14 is odd.
SEC("cgroup_skb/egress")
int run_cgroup_skb(struct __sk_buff *skb)
{
    __u8 byte = 0;
    if (bpf_skb_load_bytes(skb, 0, &byte, 1))
        return 0;
    return byte & 1;
}

// lwt_xmit: drops packets over 100 bytes.
SEC("lwt_xmit")
int run_lwt_xmit(struct __sk_buff *skb)
{
    return skb->len > 100 ? BPF_DROP_RET : BPF_OK_RET;
}

// Flow dissector: the IPv4 protocol byte into the flow keys; drops protocol 0.
SEC("flow_dissector")
int run_flow_dissector(struct __sk_buff *skb)
{
    struct bpf_flow_keys *keys = skb->flow_keys;
    __u8 *data = (void *)(long)skb->data;
    __u8 *end = (void *)(long)skb->data_end;
    __u8 *ip = data + ETH_HLEN; // the kernel starts dissecting after the Ethernet header
    if (ip + 20 > end)
        return BPF_DROP_RET;
    keys->ip_proto = ip[9];
    keys->thoff = keys->nhoff + 20;
    keys->addr_proto = 0x0800;
    return ip[9] == 0 ? BPF_DROP_RET : BPF_OK_RET;
}

// sk_lookup: drops lookups for local port 7777.
SEC("sk_lookup")
int run_sk_lookup(struct bpf_sk_lookup *ctx)
{
    return ctx->local_port == 7777 ? SK_DROP : SK_PASS;
}

// raw_tracepoint: 2 * arg0 + arg1.
SEC("raw_tp/sys_enter")
int run_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
    return ctx->args[0] * 2 + ctx->args[1];
}

// raw_tracepoint: the CPU it runs on (BPF_F_TEST_RUN_ON_CPU).
SEC("raw_tp/sys_enter")
int run_raw_tp_cpu(struct bpf_raw_tracepoint_args *ctx)
{
    return bpf_get_smp_processor_id();
}

struct sum_args {
    __u32 a;
    __u32 b;
    __u32 sum;
};

// syscall: writes a + b into the context, returns a * b.
SEC("syscall")
int run_syscall(struct sum_args *args)
{
    args->sum = args->a + args->b;
    return args->a * args->b;
}

// netfilter: drops packets over 100 bytes.
SEC("netfilter")
int run_netfilter(struct bpf_nf_ctx *ctx)
{
    return ctx->skb->len > 100 ? 0 /* NF_DROP */ : 1 /* NF_ACCEPT */;
}

__u64 fentry_arg = 0;

// fentry on the function tracing test runs call: records its argument (1) plus one.
SEC("fentry/bpf_fentry_test1")
int BPF_PROG(run_fentry, int a)
{
    fentry_arg = a + 1;
    return 0;
}

// fmod_ret: replaces bpf_modify_return_test's result.
SEC("fmod_ret/bpf_modify_return_test")
int BPF_PROG(run_fmod_ret, int a, int *b, int ret)
{
    return 1234;
}

// A kprobe: the kernel has no test run for it.
SEC("kprobe/do_nanosleep")
int no_test_run(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
