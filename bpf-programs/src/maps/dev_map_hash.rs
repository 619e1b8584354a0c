//! Hashed device maps for XDP redirection: `BPF_MAP_TYPE_DEVMAP_HASH`.

use super::xdp_redirect::xdp_redirect_map;

xdp_redirect_map! {
    /// Network devices by key (usually the ifindex), for `bpf_redirect_map` from XDP.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::DevMapHash;
    ///
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let mut ports = DevMapHash::try_from(bpf.map_mut("ports").unwrap())?;
    /// ports.set(2, 2, None, 0)?; // key 2 redirects to ifindex 2
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    DevMapHash, BPF_MAP_TYPE_DEVMAP_HASH, u32, ifindex, DevMapHashValue
}
