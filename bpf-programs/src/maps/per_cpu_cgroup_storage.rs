//! Per-CPU per-attachment cgroup storage: `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`.
//!
//! Keys are `u64` cgroup inode ids or 16-byte `bpf_cgroup_storage_key`s (id, attach type);
//! entries appear when a program using the map is attached. User space cannot add or delete.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, PerCpuKeyValueKind};
use super::per_cpu_key_value::PerCpuKeyValueMap;

/// One `V` per CPU per (cgroup, attach type) the program is attached to.
///
/// Values are [`PerCpuValues`](super::PerCpuValues), one slot per possible CPU. `T` is
/// `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two. Every method is
/// [`PerCpuKeyValueMap`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::PerCpuCgroupStorage;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let storage: PerCpuCgroupStorage<_, u64, u64> =
///     PerCpuCgroupStorage::try_from(bpf.map("packets").unwrap())?;
/// for entry in storage.iter() {
///     let (cgroup, per_cpu) = entry?;
///     println!("cgroup {cgroup}: {}", per_cpu.iter_values().sum::<u64>());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type PerCpuCgroupStorage<T, K, V> = PerCpuKeyValueMap<T, K, V, PerCpuCgroupStorageKind>;

/// The kind of [`PerCpuCgroupStorage`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum PerCpuCgroupStorageKind {}

impl Sealed for PerCpuCgroupStorageKind {}
impl PerCpuKeyValueKind for PerCpuCgroupStorageKind {}
impl MapKind for PerCpuCgroupStorageKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
    const NAME: &'static str = "PerCpuCgroupStorage";
}
