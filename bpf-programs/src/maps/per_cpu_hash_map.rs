//! Per-CPU hash maps: `BPF_MAP_TYPE_PERCPU_HASH`, `BPF_MAP_TYPE_LRU_PERCPU_HASH`.

use super::kv::per_cpu_key_value_map;

per_cpu_key_value_map! {
    /// A hash map with one value per CPU (`BPF_MAP_TYPE_PERCPU_HASH`; LRU variant accepted).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::PerCpuHashMap;
    ///
    /// let bpf = Bpf::load_file("prog.bpf.o")?;
    /// let bytes: PerCpuHashMap<_, u32, u64> = PerCpuHashMap::try_from(bpf.map("bytes").unwrap())?;
    /// if let Some(per_cpu) = bytes.get(&7, 0)? {
    ///     let total: u64 = per_cpu.iter_values().sum();
    ///     println!("{total} bytes");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    PerCpuHashMap,
    [BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH],
    create BPF_MAP_TYPE_PERCPU_HASH
}
