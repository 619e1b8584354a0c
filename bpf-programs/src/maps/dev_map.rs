//! Device maps for XDP redirection: `BPF_MAP_TYPE_DEVMAP`.

use super::xdp_redirect::xdp_redirect_map;

xdp_redirect_map! {
    /// Network devices by index, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_DEVMAP`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::DevMap;
    ///
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let mut ports = DevMap::try_from(bpf.map_mut("ports").unwrap())?;
    /// ports.set(0, 2, None, 0)?; // slot 0 redirects to ifindex 2
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    DevMap, BPF_MAP_TYPE_DEVMAP, u32, ifindex, DevMapValue
}
