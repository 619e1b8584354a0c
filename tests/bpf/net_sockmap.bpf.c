// sk_msg and sk_skb programs; attached to a sockmap created by the test.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "prog_counter.h"

SEC("sk_msg")
int count_msg(struct sk_msg_md *msg)
{
    bump(0);
    return SK_PASS;
}

SEC("sk_skb/stream_parser")
int parse_stream(struct __sk_buff *skb)
{
    bump(1);
    return skb->len;
}

SEC("sk_skb/stream_verdict")
int judge_stream(struct __sk_buff *skb)
{
    bump(2);
    return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
