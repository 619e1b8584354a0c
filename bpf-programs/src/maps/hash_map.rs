//! Hash maps: `BPF_MAP_TYPE_HASH`, `BPF_MAP_TYPE_LRU_HASH`.

use bpf_sys::generated::bpf_map_type;

use super::key_value::KeyValueMap;
use super::kind::sealed::Sealed;
use super::kind::{KeyValueKind, MapKind};

/// A hash map (`BPF_MAP_TYPE_HASH`; LRU hash maps are accepted too).
///
/// `T` is `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two. Every
/// method is [`KeyValueMap`]'s.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::HashMap;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let counts: HashMap<_, u32, u64> = HashMap::try_from(bpf.map("counts").unwrap())?;
/// for entry in counts.iter() {
///     let (pid, count) = entry?;
///     println!("{pid}: {count}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type HashMap<T, K, V> = KeyValueMap<T, K, V, HashKind>;

/// The kind of [`HashMap`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum HashKind {}

impl Sealed for HashKind {}
impl KeyValueKind for HashKind {}
impl MapKind for HashKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_HASH;
    const NAME: &'static str = "HashMap";
    const ACCEPTS: &'static [bpf_map_type::Type] = &[
        bpf_map_type::BPF_MAP_TYPE_HASH,
        bpf_map_type::BPF_MAP_TYPE_LRU_HASH,
    ];

    fn expected() -> &'static str {
        "BPF_MAP_TYPE_HASH|BPF_MAP_TYPE_LRU_HASH"
    }
}
