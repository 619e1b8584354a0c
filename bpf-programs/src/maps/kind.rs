//! Map kinds: which kernel map types a generic wrapper accepts and creates, and the checks made
//! when a map is wrapped.
//!
//! One generic wrapper serves several kernel map types ([`KeyValueMap`](super::KeyValueMap) is
//! a hash map, an LRU hash map or a cgroup storage); its last type parameter is a kind marker
//! declared beside its alias, and the public names ([`HashMap`](super::HashMap), …) are the
//! aliases that fix it.

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;

use super::{MapData, MapError, map_type_name};

pub(crate) mod sealed {
    /// Implemented only by this crate's map kinds, so that `MapKind` stays sealed.
    pub trait Sealed {}
}

/// A family of kernel map types served by one generic wrapper. Implemented only by this
/// crate's kinds ([`HashKind`](super::hash_map::HashKind), …), each beside its alias.
pub trait MapKind: sealed::Sealed {
    /// The kernel map type `create` makes.
    const CREATES: bpf_map_type::Type;
    /// The map name `create` gives (the wrapper's public name).
    const NAME: &'static str;
    /// The kernel map types the wrapper accepts: the one it creates unless a kind says more.
    const ACCEPTS: &'static [bpf_map_type::Type] = &[Self::CREATES];

    /// How errors name the accepted types.
    fn expected() -> &'static str {
        map_type_name(Self::CREATES)
    }
}

/// Kinds with one value per key: [`KeyValueMap`](super::KeyValueMap).
pub trait KeyValueKind: MapKind {}
/// Kinds with one value per possible CPU per key: [`PerCpuKeyValueMap`](super::PerCpuKeyValueMap).
pub trait PerCpuKeyValueKind: MapKind {}
/// Kinds of arrays of fds given by user space: [`FdArray`](super::FdArray).
pub trait FdArrayKind: MapKind {}
/// Kinds of local storage keyed by the owner's fd: [`FdKeyedStorage`](super::FdKeyedStorage).
pub trait FdKeyedStorageKind: MapKind {}
/// Kinds of XDP redirect maps: [`XdpRedirectMap`](super::XdpRedirectMap).
pub trait XdpRedirectKind: MapKind {
    /// The key: a slot index, a CPU id or an ifindex.
    type Key: bpf_sys::pod::Pod;
    /// A slot as read back.
    type Value;
    /// The slot holding `target` (ifindex or queue size) and the program `prog_id`.
    fn value(target: u32, prog_id: Option<u32>) -> Self::Value;
}
/// Kinds of keyless containers: [`QueueOrStack`](super::QueueOrStack).
pub trait QueueOrStackKind: MapKind {}

/// Fails unless the map is of one of `Kind`'s types.
pub(crate) fn check_kind<Kind: MapKind>(data: &MapData) -> Result<(), MapError> {
    check_type(data, Kind::ACCEPTS, Kind::expected())
}

/// Creates a map of `Kind` from user space, named after its wrapper.
pub(crate) fn create_kind<Kind: MapKind>(
    key_size: usize,
    value_size: usize,
    max_entries: u32,
    flags: u32,
) -> Result<MapData, MapError> {
    create_kind_named::<Kind>(Kind::NAME, key_size, value_size, max_entries, flags)
}

/// Creates a map of `Kind` from user space with the kernel name `name`.
pub(crate) fn create_kind_named<Kind: MapKind>(
    name: &str,
    key_size: usize,
    value_size: usize,
    max_entries: u32,
    flags: u32,
) -> Result<MapData, MapError> {
    let def = MapDef {
        map_type: Kind::CREATES,
        key_size: key_size as u32,
        value_size: value_size as u32,
        max_entries,
        map_flags: flags,
        ..MapDef::default()
    };
    MapData::create_raw(&def, name)
}

/// Fails unless the map is of type `map_type`.
pub(crate) fn check_map_type(data: &MapData, map_type: bpf_map_type::Type) -> Result<(), MapError> {
    check_type(data, &[map_type], map_type_name(map_type))
}

/// Fails unless the map is one of `allowed` types.
pub(crate) fn check_type(
    data: &MapData,
    allowed: &[u32],
    expected: &'static str,
) -> Result<(), MapError> {
    if allowed.contains(&data.map_type()) {
        Ok(())
    } else {
        Err(MapError::WrongType {
            name: data.name().to_owned(),
            expected,
            actual: data.map_type(),
        })
    }
}

/// Fails unless `K` has the map's key size.
pub(crate) fn check_key_size<K>(data: &MapData) -> Result<(), MapError> {
    check_key_len(data, size_of::<K>())
}

/// Fails unless the key is `len` bytes.
pub(crate) fn check_key_len(data: &MapData, len: usize) -> Result<(), MapError> {
    if data.key_size() as usize == len {
        Ok(())
    } else {
        Err(MapError::KeySize {
            name: data.name().to_owned(),
            expected: data.key_size(),
            actual: len,
        })
    }
}

/// Fails unless `V` has the map's value size (one CPU's slot for per-CPU maps).
pub(crate) fn check_value_size<V>(data: &MapData) -> Result<(), MapError> {
    check_value_len(data, size_of::<V>())
}

/// Fails unless the value is `len` bytes.
pub(crate) fn check_value_len(data: &MapData, len: usize) -> Result<(), MapError> {
    if data.value_size() as usize == len {
        Ok(())
    } else {
        Err(MapError::ValueSize {
            name: data.name().to_owned(),
            expected: data.value_size(),
            actual: len,
        })
    }
}
