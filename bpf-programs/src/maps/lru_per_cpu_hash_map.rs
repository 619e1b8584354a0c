//! LRU per-CPU hash maps: `BPF_MAP_TYPE_LRU_PERCPU_HASH`.

use super::kv::per_cpu_key_value_map;

per_cpu_key_value_map! {
    /// An LRU hash map with one value per CPU (`BPF_MAP_TYPE_LRU_PERCPU_HASH`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::LruPerCpuHashMap;
    ///
    /// let bpf = Bpf::load_file("prog.bpf.o")?;
    /// let flows: LruPerCpuHashMap<_, u64, u64> = LruPerCpuHashMap::try_from(bpf.map("flows").unwrap())?;
    /// for entry in flows.iter() {
    ///     let (flow, per_cpu) = entry?;
    ///     println!("{flow:#x}: {}", per_cpu.iter_values().sum::<u64>());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    LruPerCpuHashMap,
    [BPF_MAP_TYPE_LRU_PERCPU_HASH],
    create BPF_MAP_TYPE_LRU_PERCPU_HASH
}
