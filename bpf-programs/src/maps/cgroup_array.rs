//! Cgroup arrays: `BPF_MAP_TYPE_CGROUP_ARRAY`.

use super::fd_array::fd_array_map;

fd_array_map! {
    /// Cgroups by index, for `bpf_skb_under_cgroup`/`bpf_current_task_under_cgroup`.
    CgroupArray, BPF_MAP_TYPE_CGROUP_ARRAY, "the cgroup directory"
}
