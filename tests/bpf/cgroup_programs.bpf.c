// cgroup program types; each counts into `hits` under its own key. The test's cgroup is its
// own, so only its child process triggers them; ports and names narrow it further.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "prog_counter.h"

#define AF_INET 2
#define SOL_IP 0
#define IP_TTL_OPT 2

const volatile __u16 target_port = 0;

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
    bump(0);
    return 1;
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
    bump(1);
    return 1;
}

SEC("cgroup/sock_create")
int count_sock_create(struct bpf_sock *sk)
{
    if (sk->family == AF_INET)
        bump(2);
    return 1;
}

SEC("cgroup/connect4")
int count_connect4(struct bpf_sock_addr *ctx)
{
    if (ctx->user_port == bpf_htons(target_port))
        bump(3);
    return 1;
}

SEC("cgroup/sendmsg4")
int count_sendmsg4(struct bpf_sock_addr *ctx)
{
    if (ctx->user_port == bpf_htons(target_port))
        bump(4);
    return 1;
}

SEC("cgroup/bind4")
int count_bind4(struct bpf_sock_addr *ctx)
{
    if (ctx->user_port == bpf_htons(target_port))
        bump(5);
    return 1;
}

SEC("cgroup/getsockopt")
int count_getsockopt(struct bpf_sockopt *ctx)
{
    if (ctx->level == SOL_IP && ctx->optname == IP_TTL_OPT)
        bump(6);
    return 1;
}

SEC("cgroup/setsockopt")
int count_setsockopt(struct bpf_sockopt *ctx)
{
    if (ctx->level == SOL_IP && ctx->optname == IP_TTL_OPT)
        bump(7);
    return 1;
}

SEC("cgroup/sysctl")
int count_sysctl(struct bpf_sysctl *ctx)
{
    char name[32] = {};

    if (bpf_sysctl_get_name(ctx, name, sizeof(name), 0) < 0)
        return 1;
    // net/ipv4/ip_forward with BPF_F_SYSCTL_BASE_NAME unset reads the full name.
    if (__builtin_memcmp(name, "net/ipv4/ip_forward", 19) == 0 && !ctx->write)
        bump(8);
    return 1;
}

SEC("cgroup/dev")
int count_dev(struct bpf_cgroup_dev_ctx *ctx)
{
    // /dev/null: character device 1:3.
    if ((ctx->access_type & 0xffff) == 2 /* BPF_DEVCG_DEV_CHAR */ && ctx->major == 1 && ctx->minor == 3)
        bump(9);
    return 1;
}

SEC("sockops")
int count_sockops(struct bpf_sock_ops *ctx)
{
    if (ctx->op == BPF_SOCK_OPS_TCP_CONNECT_CB && (ctx->remote_port == bpf_htonl(target_port) || ctx->remote_port == bpf_htons(target_port)))
        bump(10);
    return 1;
}

SEC("cgroup/post_bind4")
int count_post_bind4(struct bpf_sock *sk)
{
    if (sk->src_port == target_port)
        bump(11);
    return 1;
}

SEC("cgroup/getsockname4")
int count_getsockname4(struct bpf_sock_addr *ctx)
{
    bump(12);
    return 1;
}

SEC("cgroup/recvmsg4")
int count_recvmsg4(struct bpf_sock_addr *ctx)
{
    bump(13);
    return 1;
}

SEC("cgroup/connect_unix")
int count_connect_unix(struct bpf_sock_addr *ctx)
{
    bump(14);
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
