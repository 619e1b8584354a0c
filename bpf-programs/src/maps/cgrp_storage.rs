//! Cgroup local storage: `BPF_MAP_TYPE_CGRP_STORAGE`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{FdKeyedStorageKind, MapKind};
use super::local_storage::FdKeyedStorage;

/// A `V` per cgroup, keyed from user space by a cgroup directory fd (`BPF_MAP_TYPE_CGRP_STORAGE`).
///
/// Every method is [`FdKeyedStorage`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::CgrpStorage;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let storage: CgrpStorage<_, u64> = CgrpStorage::try_from(bpf.map("per_cgroup").unwrap())?;
/// let service = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// println!("{:?}", storage.get(service.as_fd(), 0)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgrpStorage<T, V> = FdKeyedStorage<T, V, CgrpStorageKind>;

/// The kind of [`CgrpStorage`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum CgrpStorageKind {}

impl Sealed for CgrpStorageKind {}
impl FdKeyedStorageKind for CgrpStorageKind {}
impl MapKind for CgrpStorageKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CGRP_STORAGE;
    const NAME: &'static str = "CgrpStorage";
}
