//! AF_XDP socket maps: `BPF_MAP_TYPE_XSKMAP`.

use super::fd_array::fd_array_map;

fd_array_map! {
    /// AF_XDP sockets by queue index, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_XSKMAP`).
    XskMap, BPF_MAP_TYPE_XSKMAP, "the AF_XDP socket"
}
