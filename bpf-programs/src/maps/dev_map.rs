//! Device maps for XDP redirection: `BPF_MAP_TYPE_DEVMAP`.

use super::xdp_redirect::xdp_redirect_map;

xdp_redirect_map! {
    /// Network devices by index, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_DEVMAP`).
    DevMap, BPF_MAP_TYPE_DEVMAP, u32, ifindex, DevMapValue
}
