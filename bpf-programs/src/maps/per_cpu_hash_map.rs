//! Per-CPU hash maps: `BPF_MAP_TYPE_PERCPU_HASH`, `BPF_MAP_TYPE_LRU_PERCPU_HASH`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, PerCpuKeyValueKind};
use super::per_cpu_key_value::PerCpuKeyValueMap;

/// A hash map with one value per CPU (`BPF_MAP_TYPE_PERCPU_HASH`; LRU variant accepted).
///
/// Values are [`PerCpuValues`](super::PerCpuValues), one slot per possible CPU. `T` is
/// `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two. Every method is
/// [`PerCpuKeyValueMap`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::PerCpuHashMap;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let bytes: PerCpuHashMap<_, u32, u64> = PerCpuHashMap::try_from(bpf.map("bytes").unwrap())?;
/// if let Some(per_cpu) = bytes.get(&7, 0)? {
///     let total: u64 = per_cpu.iter_values().sum();
///     println!("{total} bytes");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type PerCpuHashMap<T, K, V> = PerCpuKeyValueMap<T, K, V, PerCpuHashKind>;

/// The kind of [`PerCpuHashMap`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum PerCpuHashKind {}

impl Sealed for PerCpuHashKind {}
impl PerCpuKeyValueKind for PerCpuHashKind {}
impl MapKind for PerCpuHashKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH;
    const NAME: &'static str = "PerCpuHashMap";
    const ACCEPTS: &'static [bpf_map_type::Type] = &[
        bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH,
        bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH,
    ];

    fn expected() -> &'static str {
        "BPF_MAP_TYPE_PERCPU_HASH|BPF_MAP_TYPE_LRU_PERCPU_HASH"
    }
}
