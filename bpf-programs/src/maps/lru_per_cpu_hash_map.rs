//! LRU per-CPU hash maps: `BPF_MAP_TYPE_LRU_PERCPU_HASH`.

use super::kv::per_cpu_key_value_map;

per_cpu_key_value_map! {
    /// An LRU hash map with one value per CPU (`BPF_MAP_TYPE_LRU_PERCPU_HASH`).
    LruPerCpuHashMap,
    [BPF_MAP_TYPE_LRU_PERCPU_HASH],
    create BPF_MAP_TYPE_LRU_PERCPU_HASH
}
