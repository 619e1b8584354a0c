//! LRU per-CPU hash maps: `BPF_MAP_TYPE_LRU_PERCPU_HASH`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, PerCpuKeyValueKind};
use super::per_cpu_key_value::PerCpuKeyValueMap;

/// An LRU hash map with one value per CPU (`BPF_MAP_TYPE_LRU_PERCPU_HASH`).
///
/// Values are [`PerCpuValues`](super::PerCpuValues), one slot per possible CPU. `T` is
/// `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two. Every method is
/// [`PerCpuKeyValueMap`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::LruPerCpuHashMap;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let flows: LruPerCpuHashMap<_, u64, u64> = LruPerCpuHashMap::try_from(bpf.map("flows").unwrap())?;
/// for entry in flows.iter() {
///     let (flow, per_cpu) = entry?;
///     println!("{flow:#x}: {}", per_cpu.iter_values().sum::<u64>());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type LruPerCpuHashMap<T, K, V> = PerCpuKeyValueMap<T, K, V, LruPerCpuHashKind>;

/// The kind of [`LruPerCpuHashMap`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum LruPerCpuHashKind {}

impl Sealed for LruPerCpuHashKind {}
impl PerCpuKeyValueKind for LruPerCpuHashKind {}
impl MapKind for LruPerCpuHashKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH;
    const NAME: &'static str = "LruPerCpuHashMap";
}
