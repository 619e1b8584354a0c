//! LRU hash maps: `BPF_MAP_TYPE_LRU_HASH`.

use bpf_sys::generated::bpf_map_type;

use super::key_value::KeyValueMap;
use super::kind::sealed::Sealed;
use super::kind::{KeyValueKind, MapKind};

/// A hash map evicting its least recently used entries when full (`BPF_MAP_TYPE_LRU_HASH`).
///
/// `T` is `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two. Every
/// method is [`KeyValueMap`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::LruHashMap;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut recent: LruHashMap<_, u32, u64> = LruHashMap::try_from(bpf.map_mut("recent").unwrap())?;
/// recent.insert(1, 42, 0)?;
/// assert_eq!(recent.get(&1, 0)?, Some(42));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type LruHashMap<T, K, V> = KeyValueMap<T, K, V, LruHashKind>;

/// The kind of [`LruHashMap`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum LruHashKind {}

impl Sealed for LruHashKind {}
impl KeyValueKind for LruHashKind {}
impl MapKind for LruHashKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_LRU_HASH;
    const NAME: &'static str = "LruHashMap";
}
