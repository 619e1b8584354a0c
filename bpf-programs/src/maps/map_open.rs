//! Opening existing maps (by pin, id or fd, or reusing another object's) and pinning them.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use bpf_core::obj::{self, MapDef};
use bpf_sys::info::{MapInfo, map_info};
use bpf_sys::map::MapFd;
use bpf_sys::obj::{obj_get, obj_pin};

use super::error::MapError;
use super::flags::BPF_F_NUMA_NODE;
use super::map_create::effective_def;
use super::map_data::{MapData, syscall};
use crate::kernel::permission::Operation;

impl MapData {
    /// Reuses the map pinned at `path` if it matches the object's definition, or creates it
    /// ([`MapData::create`]) and pins it there.
    pub fn create_or_open_pinned(
        map: &obj::Map,
        name: &str,
        btf_fd: Option<BorrowedFd<'_>>,
        path: &Path,
    ) -> Result<MapData, MapError> {
        prepare_pin(name, path)?;
        match obj_get(path, 0) {
            Ok(fd) => {
                let mut data = MapData::from_fd_named(fd, name)?;
                let wanted = effective_def(&map.def, name)?;
                data.check_compatible(&wanted, path)?;
                data.variables = map.variables.clone();
                data.pinned = Some(path.to_owned());
                Ok(data)
            }
            Err(e) if e.errno() == Some(libc::ENOENT) => {
                let mut data = MapData::create(map, name, btf_fd)?;
                data.pin(path)?;
                Ok(data)
            }
            Err(e) => Err(syscall(name, e)),
        }
    }

    /// Opens the map pinned at `path`.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<MapData, MapError> {
        let path = path.as_ref();
        let fd = obj_get(path, 0).map_err(|e| syscall(&path.display().to_string(), e))?;
        let mut data = MapData::from_fd(fd)?;
        data.pinned = Some(path.to_owned());
        Ok(data)
    }

    /// Opens the map with kernel id `id`.
    pub fn from_id(id: u32) -> Result<MapData, MapError> {
        let fd = bpf_sys::ids::fd_by_id(bpf_sys::ids::ObjectKind::Map, id, 0)
            .map_err(|e| syscall(&format!("id {id}"), e))?;
        MapData::from_fd(fd)
    }

    /// Wraps a map fd (by id, received from another process, …), reading its definition.
    pub fn from_fd(fd: OwnedFd) -> Result<MapData, MapError> {
        let info = map_info(fd.as_fd()).map_err(|e| syscall("<fd>", e))?;
        let name = info.name.clone();
        MapData::from_fd_info(fd, info, name)
    }

    fn from_fd_named(fd: OwnedFd, name: &str) -> Result<MapData, MapError> {
        let info = map_info(fd.as_fd()).map_err(|e| syscall(name, e))?;
        MapData::from_fd_info(fd, info, name.to_owned())
    }

    fn from_fd_info(fd: OwnedFd, info: MapInfo, name: String) -> Result<MapData, MapError> {
        let i = &info.info;
        let def = MapDef {
            map_type: i.type_,
            key_size: i.key_size,
            value_size: i.value_size,
            max_entries: i.max_entries,
            map_flags: i.map_flags,
            map_extra: i.map_extra,
            ..MapDef::default()
        };
        let fd = MapFd::from_fd(fd).map_err(|e| syscall(&name, e))?;
        let mut data = MapData {
            fd,
            name,
            def,
            variables: Vec::new(),
            pinned: None,
            arena: None,
        };
        // An arena another process mapped elsewhere (without map_extra) cannot be mapped here:
        // the map stays usable, only `maps::Arena` refuses it.
        if let Err(e) = data.map_arena() {
            log::debug!("arena `{}` opened without a mapping: {e}", data.name);
        }
        Ok(data)
    }

    /// Pins the map at `path` (inside a bpffs mount).
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), MapError> {
        let path = path.as_ref();
        prepare_pin(&self.name, path)?;
        obj_pin(self.fd(), path).map_err(|e| {
            if let Some(directory) = crate::kernel::fs::pin_directory_outside_bpffs(path) {
                return MapError::PinOutsideBpffs {
                    name: self.name.clone(),
                    path: path.to_owned(),
                    directory: directory.to_owned(),
                    source: e,
                };
            }
            if !crate::kernel::permission::is_permission_errno(e.errno()) {
                return syscall(&self.name, e);
            }
            MapError::PermissionDenied {
                name: self.name.clone(),
                hint: Box::new(crate::kernel::permission::hint(Operation::Pin {
                    path: path.to_owned(),
                })),
                source: e,
            }
        })?;
        self.pinned = Some(path.to_owned());
        Ok(())
    }

    /// Removes the pin this map was pinned at or opened from; the map lives on while fds remain.
    pub fn unpin(&mut self) -> Result<(), MapError> {
        if let Some(path) = self.pinned.take() {
            std::fs::remove_file(&path).map_err(|source| MapError::Io {
                name: self.name.clone(),
                what: "removing the pin",
                source,
            })?;
        }
        Ok(())
    }

    /// Where the map is pinned, if it was pinned or opened from a pin by this handle.
    pub fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    fn check_compatible(&self, wanted: &MapDef, path: &Path) -> Result<(), MapError> {
        match self.incompatibility(wanted) {
            Some(reason) => Err(MapError::PinMismatch {
                name: self.name.clone(),
                path: path.to_owned(),
                reason,
            }),
            None => Ok(()),
        }
    }

    /// How this existing map differs from the definition `wanted`, if it does.
    fn incompatibility(&self, wanted: &MapDef) -> Option<String> {
        let have = &self.def;
        let mismatch = |what: &str, have: u64, want: u64| {
            Some(format!("{what} is {have}, the object wants {want}"))
        };
        if have.map_type != wanted.map_type {
            return mismatch("type", have.map_type.into(), wanted.map_type.into());
        }
        if have.key_size != wanted.key_size {
            return mismatch("key size", have.key_size.into(), wanted.key_size.into());
        }
        if have.value_size != wanted.value_size {
            return mismatch(
                "value size",
                have.value_size.into(),
                wanted.value_size.into(),
            );
        }
        if have.max_entries != wanted.max_entries {
            return mismatch(
                "max_entries",
                have.max_entries.into(),
                wanted.max_entries.into(),
            );
        }
        // The kernel does not report BPF_F_NUMA_NODE back consistently; compare the rest.
        let flags = |f: u32| f & !BPF_F_NUMA_NODE;
        if flags(have.map_flags) != flags(wanted.map_flags) {
            return mismatch("map_flags", have.map_flags.into(), wanted.map_flags.into());
        }
        None
    }

    /// Uses the existing map `fd` (another object's, say) as the object's map `map`, once it
    /// is checked to match the definition: libbpf's `bpf_map__reuse_fd`.
    pub(crate) fn reuse(fd: OwnedFd, map: &obj::Map, name: &str) -> Result<MapData, MapError> {
        let mut data = MapData::from_fd_named(fd, name)?;
        let wanted = effective_def(&map.def, name)?;
        if let Some(reason) = data.incompatibility(&wanted) {
            return Err(MapError::ReuseMismatch {
                name: name.to_owned(),
                reason,
            });
        }
        data.variables = map.variables.clone();
        Ok(data)
    }
}

/// Mounts bpffs first when `path` is under its standard place and it is not there.
fn prepare_pin(name: &str, path: &Path) -> Result<(), MapError> {
    crate::kernel::fs::prepare_pin(path).map_err(|source| MapError::PinFilesystem {
        name: name.to_owned(),
        path: path.to_owned(),
        source: Box::new(source),
    })
}
