//! Cgroup local storage: `BPF_MAP_TYPE_CGRP_STORAGE`.

use super::local_storage::fd_keyed_storage;

fd_keyed_storage! {
    /// A `V` per cgroup, keyed from user space by a cgroup directory fd (`BPF_MAP_TYPE_CGRP_STORAGE`).
    CgrpStorage, BPF_MAP_TYPE_CGRP_STORAGE, "the cgroup of"
}
