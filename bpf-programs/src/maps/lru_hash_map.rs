//! LRU hash maps: `BPF_MAP_TYPE_LRU_HASH`.

use super::kv::key_value_map;

key_value_map! {
    /// A hash map evicting its least recently used entries when full (`BPF_MAP_TYPE_LRU_HASH`).
    LruHashMap,
    [BPF_MAP_TYPE_LRU_HASH],
    create BPF_MAP_TYPE_LRU_HASH
}
