//! `SO_REUSEPORT` socket arrays: `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`.

use super::fd_array::fd_array_map;

fd_array_map! {
    /// Sockets of a reuseport group by index, for `bpf_sk_select_reuseport`.
    ReusePortSockArray, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, "the socket"
}
