//! Map kinds: which kernel map types a generic wrapper accepts and creates, and the checks made
//! when a map is wrapped.
//!
//! One generic wrapper serves several kernel map types ([`KeyValueMap`](super::KeyValueMap) is
//! a hash map, an LRU hash map or a cgroup storage); its last type parameter is one of the
//! markers below, and the public names ([`HashMap`](super::HashMap), …) are aliases that fix it.

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;

use super::{MapData, MapError};

mod sealed {
    pub trait Sealed {}
}

/// A family of kernel map types served by one generic wrapper. Implemented by the markers of
/// this module only.
pub trait MapKind: sealed::Sealed {
    /// The kernel map types the wrapper accepts.
    const ACCEPTS: &'static [bpf_map_type::Type];
    /// How errors name the accepted types.
    const EXPECTED: &'static str;
    /// The kernel map type `create` makes.
    const CREATES: bpf_map_type::Type;
    /// The map name `create` gives (the wrapper's public name).
    const NAME: &'static str;
}

/// Kinds with one value per key: [`KeyValueMap`](super::KeyValueMap).
pub trait KeyValueKind: MapKind {}
/// Kinds with one value per possible CPU per key: [`PerCpuKeyValueMap`](super::PerCpuKeyValueMap).
pub trait PerCpuKeyValueKind: MapKind {}
/// Kinds of arrays of fds given by user space: [`FdArray`](super::FdArray).
pub trait FdArrayKind: MapKind {}
/// Kinds of local storage keyed by the owner's fd: [`FdKeyedStorage`](super::FdKeyedStorage).
pub trait FdKeyedStorageKind: MapKind {}
/// Kinds of keyless containers: [`QueueOrStack`](super::QueueOrStack).
pub trait QueueOrStackKind: MapKind {}

/// Marker: `BPF_MAP_TYPE_HASH` (LRU hash maps are accepted too), for [`HashMap`](super::HashMap).
#[derive(Debug)]
pub enum Hash {}
/// Marker: `BPF_MAP_TYPE_LRU_HASH`, for [`LruHashMap`](super::LruHashMap).
#[derive(Debug)]
pub enum LruHash {}
/// Marker: `BPF_MAP_TYPE_CGROUP_STORAGE`, for [`CgroupStorage`](super::CgroupStorage).
#[derive(Debug)]
pub enum CgroupStorage {}
/// Marker: `BPF_MAP_TYPE_PERCPU_HASH` (LRU variant accepted), for
/// [`PerCpuHashMap`](super::PerCpuHashMap).
#[derive(Debug)]
pub enum PerCpuHash {}
/// Marker: `BPF_MAP_TYPE_LRU_PERCPU_HASH`, for [`LruPerCpuHashMap`](super::LruPerCpuHashMap).
#[derive(Debug)]
pub enum LruPerCpuHash {}
/// Marker: `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`, for
/// [`PerCpuCgroupStorage`](super::PerCpuCgroupStorage).
#[derive(Debug)]
pub enum PerCpuCgroupStorage {}
/// Marker: `BPF_MAP_TYPE_PROG_ARRAY`, for [`ProgramArray`](super::ProgramArray).
#[derive(Debug)]
pub enum ProgramArray {}
/// Marker: `BPF_MAP_TYPE_CGROUP_ARRAY`, for [`CgroupArray`](super::CgroupArray).
#[derive(Debug)]
pub enum CgroupArray {}
/// Marker: `BPF_MAP_TYPE_SOCKMAP`, for [`SockMap`](super::SockMap).
#[derive(Debug)]
pub enum SockMap {}
/// Marker: `BPF_MAP_TYPE_XSKMAP`, for [`XskMap`](super::XskMap).
#[derive(Debug)]
pub enum XskMap {}
/// Marker: `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`, for
/// [`ReusePortSockArray`](super::ReusePortSockArray).
#[derive(Debug)]
pub enum ReusePortSockArray {}
/// Marker: `BPF_MAP_TYPE_SK_STORAGE`, for [`SkStorage`](super::SkStorage).
#[derive(Debug)]
pub enum SkStorage {}
/// Marker: `BPF_MAP_TYPE_INODE_STORAGE`, for [`InodeStorage`](super::InodeStorage).
#[derive(Debug)]
pub enum InodeStorage {}
/// Marker: `BPF_MAP_TYPE_TASK_STORAGE`, for [`TaskStorage`](super::TaskStorage).
#[derive(Debug)]
pub enum TaskStorage {}
/// Marker: `BPF_MAP_TYPE_CGRP_STORAGE`, for [`CgrpStorage`](super::CgrpStorage).
#[derive(Debug)]
pub enum CgrpStorage {}
/// Marker: `BPF_MAP_TYPE_QUEUE`, for [`Queue`](super::Queue).
#[derive(Debug)]
pub enum Queue {}
/// Marker: `BPF_MAP_TYPE_STACK`, for [`Stack`](super::Stack).
#[derive(Debug)]
pub enum Stack {}

impl sealed::Sealed for Hash {}
impl MapKind for Hash {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[
        bpf_map_type::BPF_MAP_TYPE_HASH,
        bpf_map_type::BPF_MAP_TYPE_LRU_HASH,
    ];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_HASH|BPF_MAP_TYPE_LRU_HASH";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_HASH;
    const NAME: &'static str = "HashMap";
}
impl KeyValueKind for Hash {}

impl sealed::Sealed for LruHash {}
impl MapKind for LruHash {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_LRU_HASH];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_LRU_HASH";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_LRU_HASH;
    const NAME: &'static str = "LruHashMap";
}
impl KeyValueKind for LruHash {}

impl sealed::Sealed for CgroupStorage {}
impl MapKind for CgroupStorage {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_CGROUP_STORAGE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_CGROUP_STORAGE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CGROUP_STORAGE;
    const NAME: &'static str = "CgroupStorage";
}
impl KeyValueKind for CgroupStorage {}

impl sealed::Sealed for PerCpuHash {}
impl MapKind for PerCpuHash {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[
        bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH,
        bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH,
    ];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_PERCPU_HASH|BPF_MAP_TYPE_LRU_PERCPU_HASH";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH;
    const NAME: &'static str = "PerCpuHashMap";
}
impl PerCpuKeyValueKind for PerCpuHash {}

impl sealed::Sealed for LruPerCpuHash {}
impl MapKind for LruPerCpuHash {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_LRU_PERCPU_HASH";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH;
    const NAME: &'static str = "LruPerCpuHashMap";
}
impl PerCpuKeyValueKind for LruPerCpuHash {}

impl sealed::Sealed for PerCpuCgroupStorage {}
impl MapKind for PerCpuCgroupStorage {
    const ACCEPTS: &'static [bpf_map_type::Type] =
        &[bpf_map_type::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
    const NAME: &'static str = "PerCpuCgroupStorage";
}
impl PerCpuKeyValueKind for PerCpuCgroupStorage {}

impl sealed::Sealed for ProgramArray {}
impl MapKind for ProgramArray {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_PROG_ARRAY];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_PROG_ARRAY";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_PROG_ARRAY;
    const NAME: &'static str = "ProgramArray";
}
impl FdArrayKind for ProgramArray {}

impl sealed::Sealed for CgroupArray {}
impl MapKind for CgroupArray {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_CGROUP_ARRAY];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_CGROUP_ARRAY";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CGROUP_ARRAY;
    const NAME: &'static str = "CgroupArray";
}
impl FdArrayKind for CgroupArray {}

impl sealed::Sealed for SockMap {}
impl MapKind for SockMap {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_SOCKMAP];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_SOCKMAP";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_SOCKMAP;
    const NAME: &'static str = "SockMap";
}
impl FdArrayKind for SockMap {}

impl sealed::Sealed for XskMap {}
impl MapKind for XskMap {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_XSKMAP];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_XSKMAP";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_XSKMAP;
    const NAME: &'static str = "XskMap";
}
impl FdArrayKind for XskMap {}

impl sealed::Sealed for ReusePortSockArray {}
impl MapKind for ReusePortSockArray {
    const ACCEPTS: &'static [bpf_map_type::Type] =
        &[bpf_map_type::BPF_MAP_TYPE_REUSEPORT_SOCKARRAY];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_REUSEPORT_SOCKARRAY;
    const NAME: &'static str = "ReusePortSockArray";
}
impl FdArrayKind for ReusePortSockArray {}

impl sealed::Sealed for SkStorage {}
impl MapKind for SkStorage {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_SK_STORAGE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_SK_STORAGE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_SK_STORAGE;
    const NAME: &'static str = "SkStorage";
}
impl FdKeyedStorageKind for SkStorage {}

impl sealed::Sealed for InodeStorage {}
impl MapKind for InodeStorage {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_INODE_STORAGE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_INODE_STORAGE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_INODE_STORAGE;
    const NAME: &'static str = "InodeStorage";
}
impl FdKeyedStorageKind for InodeStorage {}

impl sealed::Sealed for TaskStorage {}
impl MapKind for TaskStorage {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_TASK_STORAGE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_TASK_STORAGE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_TASK_STORAGE;
    const NAME: &'static str = "TaskStorage";
}
impl FdKeyedStorageKind for TaskStorage {}

impl sealed::Sealed for CgrpStorage {}
impl MapKind for CgrpStorage {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_CGRP_STORAGE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_CGRP_STORAGE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CGRP_STORAGE;
    const NAME: &'static str = "CgrpStorage";
}
impl FdKeyedStorageKind for CgrpStorage {}

impl sealed::Sealed for Queue {}
impl MapKind for Queue {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_QUEUE];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_QUEUE";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_QUEUE;
    const NAME: &'static str = "Queue";
}
impl QueueOrStackKind for Queue {}

impl sealed::Sealed for Stack {}
impl MapKind for Stack {
    const ACCEPTS: &'static [bpf_map_type::Type] = &[bpf_map_type::BPF_MAP_TYPE_STACK];
    const EXPECTED: &'static str = "BPF_MAP_TYPE_STACK";
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_STACK;
    const NAME: &'static str = "Stack";
}
impl QueueOrStackKind for Stack {}

/// Fails unless the map is of one of `Kind`'s types.
pub(crate) fn check_kind<Kind: MapKind>(data: &MapData) -> Result<(), MapError> {
    check_type(data, Kind::ACCEPTS, Kind::EXPECTED)
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
