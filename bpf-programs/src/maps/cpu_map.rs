//! CPU maps for XDP redirection: `BPF_MAP_TYPE_CPUMAP`.

use super::xdp_redirect::xdp_redirect_map;

xdp_redirect_map! {
    /// Per-CPU redirect queues by CPU id, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_CPUMAP`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::CpuMap;
    ///
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let mut cpus = CpuMap::try_from(bpf.map_mut("cpus").unwrap())?;
    /// cpus.set(1, 2048, None, 0)?; // CPU 1, a queue of 2048 frames
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    CpuMap, BPF_MAP_TYPE_CPUMAP, u32, queue_size, CpuMapValue
}
