//! Task local storage: `BPF_MAP_TYPE_TASK_STORAGE`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{FdKeyedStorageKind, MapKind};
use super::local_storage::FdKeyedStorage;

/// A `V` per task, keyed from user space by a pidfd (`BPF_MAP_TYPE_TASK_STORAGE`).
///
/// Every method is [`FdKeyedStorage`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::TaskStorage;
/// # let pidfd = std::fs::File::open("/dev/null")?; // pidfd_open(2) of the task
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let storage: TaskStorage<_, u64> = TaskStorage::try_from(bpf.map("syscalls").unwrap())?;
/// println!("{:?}", storage.get(pidfd.as_fd(), 0)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type TaskStorage<T, V> = FdKeyedStorage<T, V, TaskStorageKind>;

/// The kind of [`TaskStorage`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum TaskStorageKind {}

impl Sealed for TaskStorageKind {}
impl FdKeyedStorageKind for TaskStorageKind {}
impl MapKind for TaskStorageKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_TASK_STORAGE;
    const NAME: &'static str = "TaskStorage";
}
