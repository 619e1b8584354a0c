//! Hash maps: `BPF_MAP_TYPE_HASH`, `BPF_MAP_TYPE_LRU_HASH`.

use super::kv::key_value_map;

key_value_map! {
    /// A hash map (`BPF_MAP_TYPE_HASH`; LRU hash maps are accepted too).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::maps::HashMap;
    ///
    /// let bpf = Bpf::load_file("prog.bpf.o")?;
    /// let counts: HashMap<_, u32, u64> = HashMap::try_from(bpf.map("counts").unwrap())?;
    /// for entry in counts.iter() {
    ///     let (pid, count) = entry?;
    ///     println!("{pid}: {count}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    HashMap,
    [BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH],
    create BPF_MAP_TYPE_HASH
}
