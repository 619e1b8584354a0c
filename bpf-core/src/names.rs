//! bpftool's names for program, map, link and attach types (the UAPI enums' suffixes in
//! lower case), so that output of this project and of bpftool reads and compares the same.

const PROG_TYPES: &[&str] = &[
    "unspec",
    "socket_filter",
    "kprobe",
    "sched_cls",
    "sched_act",
    "tracepoint",
    "xdp",
    "perf_event",
    "cgroup_skb",
    "cgroup_sock",
    "lwt_in",
    "lwt_out",
    "lwt_xmit",
    "sock_ops",
    "sk_skb",
    "cgroup_device",
    "sk_msg",
    "raw_tracepoint",
    "cgroup_sock_addr",
    "lwt_seg6local",
    "lirc_mode2",
    "sk_reuseport",
    "flow_dissector",
    "cgroup_sysctl",
    "raw_tracepoint_writable",
    "cgroup_sockopt",
    "tracing",
    "struct_ops",
    "ext",
    "lsm",
    "sk_lookup",
    "syscall",
    "netfilter",
];

const MAP_TYPES: &[&str] = &[
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
    "arena",
];

const LINK_TYPES: &[&str] = &[
    "unspec",
    "raw_tracepoint",
    "tracing",
    "cgroup",
    "iter",
    "netns",
    "xdp",
    "perf_event",
    "kprobe_multi",
    "struct_ops",
    "netfilter",
    "tcx",
    "uprobe_multi",
    "netkit",
    "sockmap",
];

const ATTACH_TYPES: &[&str] = &[
    "cgroup_inet_ingress",
    "cgroup_inet_egress",
    "cgroup_inet_sock_create",
    "cgroup_sock_ops",
    "sk_skb_stream_parser",
    "sk_skb_stream_verdict",
    "cgroup_device",
    "sk_msg_verdict",
    "cgroup_inet4_bind",
    "cgroup_inet6_bind",
    "cgroup_inet4_connect",
    "cgroup_inet6_connect",
    "cgroup_inet4_post_bind",
    "cgroup_inet6_post_bind",
    "cgroup_udp4_sendmsg",
    "cgroup_udp6_sendmsg",
    "lirc_mode2",
    "flow_dissector",
    "cgroup_sysctl",
    "cgroup_udp4_recvmsg",
    "cgroup_udp6_recvmsg",
    "cgroup_getsockopt",
    "cgroup_setsockopt",
    "trace_raw_tp",
    "trace_fentry",
    "trace_fexit",
    "modify_return",
    "lsm_mac",
    "trace_iter",
    "cgroup_inet4_getpeername",
    "cgroup_inet6_getpeername",
    "cgroup_inet4_getsockname",
    "cgroup_inet6_getsockname",
    "xdp_devmap",
    "cgroup_inet_sock_release",
    "xdp_cpumap",
    "sk_lookup",
    "xdp",
    "sk_skb_verdict",
    "sk_reuseport_select",
    "sk_reuseport_select_or_migrate",
    "perf_event",
    "trace_kprobe_multi",
    "lsm_cgroup",
    "struct_ops",
    "netfilter",
    "tcx_ingress",
    "tcx_egress",
    "trace_uprobe_multi",
    "cgroup_unix_connect",
    "cgroup_unix_sendmsg",
    "cgroup_unix_recvmsg",
    "cgroup_unix_getpeername",
    "cgroup_unix_getsockname",
    "netkit_primary",
    "netkit_peer",
    "trace_kprobe_session",
];

fn name(table: &[&str], value: u32) -> String {
    table
        .get(value as usize)
        .map_or_else(|| format!("type {value}"), |n| (*n).to_owned())
}

/// A program type's name (`sched_cls`), if this table knows the number.
pub fn prog_type_name(value: u32) -> Option<&'static str> {
    PROG_TYPES.get(value as usize).copied()
}

/// A program type's name, or `type N` for a number newer than this table.
pub fn prog_type(value: u32) -> String {
    name(PROG_TYPES, value)
}

/// A map type's name (`ringbuf`), or `type N`.
pub fn map_type(value: u32) -> String {
    name(MAP_TYPES, value)
}

/// A link type's name (`netkit`), or `type N`.
pub fn link_type(value: u32) -> String {
    name(LINK_TYPES, value)
}

/// An attach type's name (`tcx_egress`), or `type N`.
pub fn attach_type(value: u32) -> String {
    name(ATTACH_TYPES, value)
}

/// Every program type this table knows, with its number (unspec left out).
pub fn all_prog_types() -> impl Iterator<Item = (u32, &'static str)> {
    PROG_TYPES
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, n)| (i as u32, *n))
}

/// Every map type this table knows, with its number (unspec left out).
pub fn all_map_types() -> impl Iterator<Item = (u32, &'static str)> {
    MAP_TYPES
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, n)| (i as u32, *n))
}

/// Every attach type this table knows, with its number.
pub fn all_attach_types() -> impl Iterator<Item = (u32, &'static str)> {
    ATTACH_TYPES.iter().enumerate().map(|(i, n)| (i as u32, *n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_sys::generated::{bpf_attach_type, bpf_link_type, bpf_map_type, bpf_prog_type};

    #[test]
    fn tables_cover_the_generated_enums() {
        assert_eq!(PROG_TYPES.len() as u32, bpf_prog_type::__MAX_BPF_PROG_TYPE);
        assert_eq!(MAP_TYPES.len() as u32, bpf_map_type::__MAX_BPF_MAP_TYPE);
        assert_eq!(LINK_TYPES.len() as u32, bpf_link_type::__MAX_BPF_LINK_TYPE);
        assert_eq!(
            ATTACH_TYPES.len() as u32,
            bpf_attach_type::__MAX_BPF_ATTACH_TYPE
        );
        assert_eq!(
            prog_type(bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS),
            "sched_cls"
        );
        assert_eq!(map_type(bpf_map_type::BPF_MAP_TYPE_RINGBUF), "ringbuf");
        assert_eq!(link_type(bpf_link_type::BPF_LINK_TYPE_NETKIT), "netkit");
        assert_eq!(attach_type(bpf_attach_type::BPF_TCX_EGRESS), "tcx_egress");
        assert_eq!(prog_type(999), "type 999");
    }
}
