// Kernel module BTF: CO-RE against a type that lives in the veth module's BTF (built in on
// some kernels, a module with split BTF on others), fentry on a module function, and kfuncs
// that nf_conntrack defines (called through the load's fd_array when it is a module).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

__u64 veth_priv_exists;
__u64 veth_priv_size;
__u64 veth_dropped_offset;
__u64 missing_type_exists;
__u64 veth_opens;

struct no_such_module_type_xyz {
    int field;
};

SEC("syscall")
int probe_module_types(void *ctx)
{
    veth_priv_exists = bpf_core_type_exists(struct veth_priv);
    veth_priv_size = bpf_core_type_size(struct veth_priv);
    veth_dropped_offset = bpf_core_field_offset(struct veth_priv, dropped);
    missing_type_exists = bpf_core_type_exists(struct no_such_module_type_xyz);
    return 0;
}

// The 12-byte layout every kernel with these kfuncs accepts.
struct bpf_ct_opts___local {
    __s32 netns_id;
    __s32 error;
    __u8 l4proto;
    __u8 dir;
    __u8 reserved[2];
};

__s64 ct_lookup_error = 1;
__u64 ct_lookups;

SEC("xdp")
int lookup_conntrack(struct xdp_md *ctx)
{
    struct bpf_ct_opts___local opts = { .netns_id = -1, .l4proto = IPPROTO_TCP };
    struct bpf_sock_tuple tuple = {};

    tuple.ipv4.saddr = bpf_htonl(0x0a090001);
    tuple.ipv4.daddr = bpf_htonl(0x0a090002);
    tuple.ipv4.sport = bpf_htons(40002);
    tuple.ipv4.dport = bpf_htons(40003);
    // vmlinux.h declares the kfuncs (weak, from this kernel's BTF) with the newest opts layout.
    struct nf_conn *ct = bpf_xdp_ct_lookup(ctx, &tuple, sizeof(tuple.ipv4),
                                           (struct bpf_ct_opts *)&opts, sizeof(opts));
    if (ct)
        bpf_ct_release(ct);
    ct_lookup_error = opts.error;
    __sync_fetch_and_add(&ct_lookups, 1);
    return XDP_PASS;
}

SEC("fentry/veth_open")
int BPF_PROG(count_veth_open, struct net_device *dev)
{
    __sync_fetch_and_add(&veth_opens, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
