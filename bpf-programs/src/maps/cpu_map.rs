//! CPU maps for XDP redirection: `BPF_MAP_TYPE_CPUMAP`.

use super::xdp_redirect::xdp_redirect_map;

xdp_redirect_map! {
    /// Per-CPU redirect queues by CPU id, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_CPUMAP`).
    CpuMap, BPF_MAP_TYPE_CPUMAP, u32, queue_size, CpuMapValue
}
