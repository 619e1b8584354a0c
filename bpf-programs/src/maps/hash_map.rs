//! Hash maps: `BPF_MAP_TYPE_HASH`, `BPF_MAP_TYPE_LRU_HASH`.

use super::kv::key_value_map;

key_value_map! {
    /// A hash map (`BPF_MAP_TYPE_HASH`; LRU hash maps are accepted too).
    HashMap,
    [BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH],
    create BPF_MAP_TYPE_HASH
}
