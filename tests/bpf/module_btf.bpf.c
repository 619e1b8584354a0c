// Kernel module BTF: CO-RE against a type that lives in the veth module's BTF (built in on
// some kernels, a module with split BTF on others) and fentry on a module function.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

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

SEC("fentry/veth_open")
int BPF_PROG(count_veth_open, struct net_device *dev)
{
    __sync_fetch_and_add(&veth_opens, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
