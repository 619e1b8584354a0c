//! [`MapInfo`]: what the kernel reports about a map, and [`loaded_maps`] for every map.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::map_info;
use bpf_sys::obj::obj_get;

use super::MapData;
use super::MapError;
use super::map_data::syscall;

/// The kernel's description of a map.
#[derive(Debug, Clone)]
pub struct MapInfo {
    raw: bpf_sys::info::MapInfo,
    memlock: Option<u64>,
    frozen: Option<bool>,
}

impl MapData {
    /// The kernel's view of the map (id, name, sizes, flags, BTF ids).
    pub fn info(&self) -> Result<MapInfo, MapError> {
        MapInfo::from_data(self)
    }
}

impl MapInfo {
    pub(crate) fn from_data(data: &MapData) -> Result<MapInfo, MapError> {
        let raw = map_info(data.fd()).map_err(|e| syscall(data.name(), e))?;
        Ok(MapInfo::with_fdinfo(raw, data.fd()))
    }

    fn with_fdinfo(raw: bpf_sys::info::MapInfo, fd: std::os::fd::BorrowedFd<'_>) -> MapInfo {
        MapInfo {
            raw,
            memlock: crate::fdinfo::fdinfo_u64(fd, "memlock"),
            frozen: crate::fdinfo::fdinfo_u64(fd, "frozen").map(|f| f != 0),
        }
    }

    /// Bytes of memory the kernel charges to the map (fdinfo's `memlock`).
    pub fn memlock(&self) -> Option<u64> {
        self.memlock
    }

    /// Whether user space can no longer write the map (`BPF_MAP_FREEZE`, e.g. `.rodata`).
    pub fn frozen(&self) -> Option<bool> {
        self.frozen
    }

    /// BTF type id of the key in [`btf_id`](Self::btf_id)'s BTF (0: none).
    pub fn btf_key_type_id(&self) -> u32 {
        self.raw.info.btf_key_type_id
    }

    /// BTF type id of the value in [`btf_id`](Self::btf_id)'s BTF (0: none).
    pub fn btf_value_type_id(&self) -> u32 {
        self.raw.info.btf_value_type_id
    }

    /// For struct_ops maps: the value's type id in the kernel's BTF.
    pub fn btf_vmlinux_value_type_id(&self) -> u32 {
        self.raw.info.btf_vmlinux_value_type_id
    }

    /// Info of the map with `id`.
    pub fn from_id(id: u32) -> Result<MapInfo, MapError> {
        let fd = fd_by_id(ObjectKind::Map, id, 0).map_err(|e| syscall(&format!("id {id}"), e))?;
        Self::from_owned_fd(&fd, &format!("id {id}"))
    }

    /// Info of the map pinned at `path`.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<MapInfo, MapError> {
        let name = path.as_ref().display().to_string();
        let fd = obj_get(path.as_ref(), 0).map_err(|e| syscall(&name, e))?;
        Self::from_owned_fd(&fd, &name)
    }

    fn from_owned_fd(fd: &OwnedFd, name: &str) -> Result<MapInfo, MapError> {
        let raw = map_info(fd.as_fd()).map_err(|e| syscall(name, e))?;
        Ok(MapInfo::with_fdinfo(raw, fd.as_fd()))
    }

    /// Map id.
    pub fn id(&self) -> u32 {
        self.raw.info.id
    }

    /// Name as the kernel stores it (at most 15 bytes).
    pub fn name(&self) -> &str {
        &self.raw.name
    }

    /// `bpf_map_type::BPF_MAP_TYPE_*`.
    pub fn map_type(&self) -> u32 {
        self.raw.info.type_
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> u32 {
        self.raw.info.key_size
    }

    /// Value size in bytes.
    pub fn value_size(&self) -> u32 {
        self.raw.info.value_size
    }

    /// Maximum number of entries.
    pub fn max_entries(&self) -> u32 {
        self.raw.info.max_entries
    }

    /// `BPF_F_*` flags.
    pub fn map_flags(&self) -> u32 {
        self.raw.info.map_flags
    }

    /// The type-specific `map_extra` (bloom filter hash count, arena address).
    pub fn map_extra(&self) -> u64 {
        self.raw.info.map_extra
    }

    /// Id of the BTF object describing key and value (0 if none).
    pub fn btf_id(&self) -> u32 {
        self.raw.info.btf_id
    }

    /// The raw `bpf_map_info`.
    pub fn raw(&self) -> &bpf_sys::generated::bpf_map_info {
        &self.raw.info
    }

    /// Opens the map this info describes.
    pub fn open(&self) -> Result<MapData, MapError> {
        let fd = fd_by_id(ObjectKind::Map, self.id(), 0).map_err(|e| syscall(self.name(), e))?;
        MapData::from_fd(fd)
    }
}

/// Info of every map loaded in the kernel (ids walked in increasing order). Maps that
/// disappear during the walk are skipped.
pub fn loaded_maps() -> impl Iterator<Item = Result<MapInfo, MapError>> {
    ids(ObjectKind::Map).filter_map(|id| match id {
        Ok(id) => match MapInfo::from_id(id) {
            Err(e) if e.errno() == Some(libc::ENOENT) => None,
            other => Some(other),
        },
        Err(e) => Some(Err(syscall("<map ids>", e))),
    })
}
