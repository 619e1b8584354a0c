//! Per-CPU hash maps: `BPF_MAP_TYPE_PERCPU_HASH`, `BPF_MAP_TYPE_LRU_PERCPU_HASH`.

use super::kv::per_cpu_key_value_map;

per_cpu_key_value_map! {
    /// A hash map with one value per CPU (`BPF_MAP_TYPE_PERCPU_HASH`; LRU variant accepted).
    PerCpuHashMap,
    [BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH],
    create BPF_MAP_TYPE_PERCPU_HASH
}
