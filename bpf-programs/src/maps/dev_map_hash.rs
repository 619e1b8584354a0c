//! Hashed device maps for XDP redirection: `BPF_MAP_TYPE_DEVMAP_HASH`.

use super::xdp_redirect::xdp_redirect_map;

xdp_redirect_map! {
    /// Network devices by key (usually the ifindex), for `bpf_redirect_map` from XDP.
    DevMapHash, BPF_MAP_TYPE_DEVMAP_HASH, u32, ifindex, DevMapHashValue
}
