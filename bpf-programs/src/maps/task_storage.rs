//! Task local storage: `BPF_MAP_TYPE_TASK_STORAGE`.

use super::local_storage::fd_keyed_storage;

fd_keyed_storage! {
    /// A `V` per task, keyed from user space by a pidfd (`BPF_MAP_TYPE_TASK_STORAGE`).
    TaskStorage, BPF_MAP_TYPE_TASK_STORAGE, "the task of pidfd"
}
