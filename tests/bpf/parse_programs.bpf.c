// Section names, several programs per section, static and cross-section subprograms.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x060c00;

static __noinline int static_helper(int x)
{
	return x * 3 + 1;
}

__noinline int global_helper(int x)
{
	return static_helper(x) + 2;
}

/* A subprogram living in its own non-program section. */
__attribute__((section(".text.helpers"), noinline)) int other_section_helper(int x)
{
	return x ^ 0x5a;
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	return global_helper(ctx->ingress_ifindex) > 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	return other_section_helper(ctx->rx_queue_index) & 1 ? XDP_PASS : XDP_DROP;
}

SEC("xdp.frags")
int xdp_frags_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	return static_helper(1);
}

SEC("kprobe/do_sys_open")
int kprobe_open(void *ctx)
{
	return 0;
}

SEC("uretprobe.s//usr/bin/true:main")
int uretprobe_sleepable(void *ctx)
{
	return 0;
}

SEC("fentry/do_unlinkat")
int fentry_unlink(void *ctx)
{
	return 0;
}

SEC("cgroup/connect4")
int connect4_prog(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
	return global_helper(skb->len);
}

SEC("socket")
int socket_prog(struct __sk_buff *skb)
{
	return 0;
}

SEC("my_unknown_section")
int unknown_prog(void *ctx)
{
	return 0;
}

/* Not loaded unless asked for (libbpf's `?` prefix). */
SEC("?tc")
int optional_prog(struct __sk_buff *skb)
{
	return 0;
}
