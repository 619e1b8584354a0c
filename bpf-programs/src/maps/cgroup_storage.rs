//! Per-attachment cgroup storage: `BPF_MAP_TYPE_CGROUP_STORAGE`.
//!
//! Keys are `u64` cgroup inode ids or 16-byte `bpf_cgroup_storage_key`s (id, attach type);
//! entries appear when a program using the map is attached. User space cannot add or delete.

use super::kv::key_value_map;

key_value_map! {
    /// One `V` per (cgroup, attach type) the program is attached to.
    CgroupStorage,
    [BPF_MAP_TYPE_CGROUP_STORAGE],
    create BPF_MAP_TYPE_CGROUP_STORAGE
}
