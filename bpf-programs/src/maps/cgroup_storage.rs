//! Per-attachment cgroup storage: `BPF_MAP_TYPE_CGROUP_STORAGE`.
//!
//! Keys are `u64` cgroup inode ids or 16-byte `bpf_cgroup_storage_key`s (id, attach type);
//! entries appear when a program using the map is attached. User space cannot add or delete.

use bpf_sys::generated::bpf_map_type;

use super::key_value::KeyValueMap;
use super::kind::sealed::Sealed;
use super::kind::{KeyValueKind, MapKind};

/// One `V` per (cgroup, attach type) the program is attached to.
///
/// `T` is `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two. Every
/// method is [`KeyValueMap`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::CgroupStorage;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// // Keyed by cgroup id; entries exist while a program using the map is attached.
/// let storage: CgroupStorage<_, u64, u64> = CgroupStorage::try_from(bpf.map("packets").unwrap())?;
/// for entry in storage.iter() {
///     let (cgroup, packets) = entry?;
///     println!("cgroup {cgroup}: {packets}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupStorage<T, K, V> = KeyValueMap<T, K, V, CgroupStorageKind>;

/// The kind of [`CgroupStorage`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum CgroupStorageKind {}

impl Sealed for CgroupStorageKind {}
impl KeyValueKind for CgroupStorageKind {}
impl MapKind for CgroupStorageKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CGROUP_STORAGE;
    const NAME: &'static str = "CgroupStorage";
}
