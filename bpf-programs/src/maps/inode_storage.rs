//! Inode local storage: `BPF_MAP_TYPE_INODE_STORAGE`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{FdKeyedStorageKind, MapKind};
use super::local_storage::FdKeyedStorage;

/// A `V` per inode, keyed from user space by an fd of a file (`BPF_MAP_TYPE_INODE_STORAGE`).
///
/// Every method is [`FdKeyedStorage`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::InodeStorage;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let storage: InodeStorage<_, u64> = InodeStorage::try_from(bpf.map("opens").unwrap())?;
/// let file = std::fs::File::open("/etc/passwd")?;
/// println!("{:?}", storage.get(file.as_fd(), 0)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type InodeStorage<T, V> = FdKeyedStorage<T, V, InodeStorageKind>;

/// The kind of [`InodeStorage`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum InodeStorageKind {}

impl Sealed for InodeStorageKind {}
impl FdKeyedStorageKind for InodeStorageKind {}
impl MapKind for InodeStorageKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_INODE_STORAGE;
    const NAME: &'static str = "InodeStorage";
}
