//! [`MapData`]: an owned map fd with its name and definition.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use bpf_core::obj::{self, MapDef};
use bpf_sys::SyscallError;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::info::{MapInfo, map_info};
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::mmap::MmapRegion;
use bpf_sys::obj::{obj_get, obj_pin};
use bpf_sys::util::possible_cpu_count;

use super::error::MapError;
use super::flags::{BPF_F_NUMA_NODE, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};
use crate::kernel::permission::Operation;

/// A created (or opened) map: the fd, its name and the attributes the kernel knows it by.
#[derive(Debug)]
pub struct MapData {
    fd: MapFd,
    name: String,
    def: MapDef,
    variables: Vec<obj::Variable>,
    pinned: Option<PathBuf>,
    /// An arena's mapping, made right after creation and kept for the map's life: its address
    /// is the arena's user-space address, which programs need set before they load.
    arena: Option<MmapRegion>,
}

impl MapData {
    /// Creates the map an object declares, named `name` in the kernel.
    ///
    /// Global data maps get their initial contents written; `.rodata` and `.kconfig` are then
    /// frozen, so set constants on the object before creating its maps. When the kernel refuses
    /// the BTF type ids of key and value, the map is created again without them.
    pub fn create(
        map: &obj::Map,
        name: &str,
        btf_fd: Option<BorrowedFd<'_>>,
    ) -> Result<MapData, MapError> {
        let def = effective_def(&map.def, name)?;
        if is_map_in_map(def.map_type) && map.def.inner.is_none() {
            return Err(MapError::InvalidDefinition {
                name: name.to_owned(),
                reason: "a map of maps needs its inner map's shape: declare its values with \
                         `__array(values, struct inner_map)`"
                    .to_owned(),
            });
        }
        let inner = match &map.def.inner {
            Some(inner_def) => {
                let inner_def = effective_def(inner_def, name)?;
                // The template keeps its BTF value type, as libbpf's does: the kernel compares
                // the BTF records (spin locks, timers, kptrs, list heads) of the template and of
                // every map put in a slot, so a template without BTF refuses all of them
                // (EINVAL on the slot update) when the value holds such special fields.
                let inner_uses_btf = btf_fd.is_some()
                    && (inner_def.key_type_id.is_some() || inner_def.value_type_id.is_some());
                match create_fd(&inner_def, name, btf_fd) {
                    Ok(fd) => Some(fd),
                    Err(e) if inner_uses_btf && e.errno() == Some(libc::EINVAL) => {
                        log::debug!(
                            "map `{name}`: kernel refused the inner map's BTF ({}), creating it without",
                            crate::ErrorChain(&e)
                        );
                        Some(create_fd(&inner_def, name, None)?)
                    }
                    Err(e) => return Err(e),
                }
            }
            None => None,
        };
        let inner_fd = inner.as_ref().map(|i| i.fd());
        // The kernel refuses BTF key/value types on the outer map of a map-in-map (ENOTSUPP,
        // `map_check_no_btf`); libbpf leaves them out. Failing here would send the caller's
        // fallback to recreate everything without BTF, the inner template included.
        let btf_fd = if inner.is_some() || is_map_in_map(def.map_type) {
            None
        } else {
            btf_fd
        };
        let uses_btf =
            btf_fd.is_some() && (def.key_type_id.is_some() || def.value_type_id.is_some());
        let fd = match create_fd_with_inner(&def, name, btf_fd, inner_fd) {
            Ok(fd) => fd,
            Err(e) if uses_btf && e.errno() == Some(libc::EINVAL) => {
                log::debug!(
                    "map `{name}`: kernel refused its BTF ({}), creating it without",
                    crate::ErrorChain(&e)
                );
                create_fd_with_inner(&def, name, None, inner_fd)?
            }
            Err(e) => return Err(e),
        };
        let mut data = MapData {
            fd,
            name: name.to_owned(),
            def,
            variables: map.variables.clone(),
            pinned: None,
            arena: None,
        };
        data.map_arena()?;
        if map.has_initial_data() && !map.data.is_empty() {
            data.write_initial_value(&map.data)?;
        }
        if map.frozen() {
            data.freeze()?;
        }
        Ok(data)
    }

    /// Creates a map from a bare definition (user-space maps: no BTF, no initial contents).
    pub fn create_raw(def: &MapDef, name: &str) -> Result<MapData, MapError> {
        let def = effective_def(def, name)?;
        let inner = match &def.inner {
            Some(inner_def) => Some(create_fd(&effective_def(inner_def, name)?, name, None)?),
            None => None,
        };
        let fd = create_fd_with_inner(&def, name, None, inner.as_ref().map(|i| i.fd()))?;
        let mut data = MapData {
            fd,
            name: name.to_owned(),
            def,
            variables: Vec::new(),
            pinned: None,
            arena: None,
        };
        data.map_arena()?;
        Ok(data)
    }

    /// Creates a map whose inner-map template is an existing map (map-in-map types).
    pub fn create_with_inner(
        def: &MapDef,
        name: &str,
        inner: BorrowedFd<'_>,
    ) -> Result<MapData, MapError> {
        let def = effective_def(def, name)?;
        let fd = create_fd_with_inner(&def, name, None, Some(inner))?;
        Ok(MapData {
            fd,
            name: name.to_owned(),
            def,
            variables: Vec::new(),
            pinned: None,
            arena: None,
        })
    }

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

    /// Bytes a value takes in user space: `value_size`, or for per-CPU maps one 8-byte aligned
    /// slot per possible CPU.
    pub fn value_buf_size(&self) -> usize {
        self.fd.value_buf_size()
    }

    /// The value at `key` as bytes (all CPUs' slots for per-CPU maps); `None` when absent.
    pub fn lookup_bytes(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        let mut value = vec![0u8; self.value_buf_size()];
        match self.fd.lookup(key, &mut value, 0) {
            Ok(true) => Ok(Some(value)),
            Ok(false) => Ok(None),
            Err(e) => Err(syscall(&self.name, e)),
        }
    }

    /// Writes `key` → `value` as bytes; `flags` is `BPF_ANY`, `BPF_NOEXIST` or `BPF_EXIST`.
    pub fn update_bytes(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.fd
            .update(key, value, flags)
            .map_err(|e| syscall(&self.name, e))
    }

    /// Deletes `key`; `false` when it was not there.
    pub fn delete_bytes(&self, key: &[u8]) -> Result<bool, MapError> {
        match self.fd.delete(key) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(syscall(&self.name, e)),
        }
    }

    /// The keys as bytes, walked with `BPF_MAP_GET_NEXT_KEY` (an array's indexes included).
    pub fn keys_bytes(&self) -> impl Iterator<Item = Result<Vec<u8>, MapError>> + '_ {
        let mut previous: Option<Vec<u8>> = None;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut next = vec![0u8; self.key_size() as usize];
            match self.fd.next_key(previous.as_deref(), &mut next) {
                Ok(true) => {
                    previous = Some(next.clone());
                    Some(Ok(next))
                }
                Ok(false) => {
                    done = true;
                    None
                }
                Err(e) => {
                    done = true;
                    Some(Err(syscall(&self.name, e)))
                }
            }
        })
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

    /// Freezes the map: user space can no longer write it (programs still can, unless
    /// it was created read-only for programs).
    pub fn freeze(&self) -> Result<(), MapError> {
        self.fd.freeze().map_err(|e| syscall(&self.name, e))
    }

    /// Kept for loaders that set constants after creation: freezes maps the object wants frozen.
    pub fn finalize(&self, map: &obj::Map) -> Result<(), MapError> {
        if map.frozen() { self.freeze() } else { Ok(()) }
    }

    /// Writes `fd` (a program or map fd) at `index` of a prog array or array-of-maps.
    pub fn set_fd_slot(&self, index: u32, fd: BorrowedFd<'_>) -> Result<(), MapError> {
        use std::os::fd::AsRawFd;
        let value = fd.as_raw_fd() as u32;
        self.fd
            .update(&index.to_ne_bytes(), &value.to_ne_bytes(), 0)
            .map_err(|e| syscall(&self.name, e))
    }

    fn write_initial_value(&self, data: &[u8]) -> Result<(), MapError> {
        if data.len() != self.def.value_size as usize {
            return Err(MapError::InvalidDefinition {
                name: self.name.clone(),
                reason: format!(
                    "initial data is {} bytes, the value is {}",
                    data.len(),
                    self.def.value_size
                ),
            });
        }
        self.fd
            .update(&0u32.to_ne_bytes(), data, 0)
            .map_err(|e| syscall(&self.name, e))
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

    /// Maps an arena map (a no-op for other types): `max_entries` pages, read-write, at
    /// `map_extra` when the definition sets it (never replacing an existing mapping), else where
    /// the kernel chooses. Like libbpf, right after creation: programs using the arena load only
    /// once its user-space address is set.
    fn map_arena(&mut self) -> Result<(), MapError> {
        if self.def.map_type != bpf_map_type::BPF_MAP_TYPE_ARENA || self.arena.is_some() {
            return Ok(());
        }
        let len = arena_size(&self.def)
            .and_then(|len| usize::try_from(len).ok())
            .filter(|&len| len > 0)
            .ok_or_else(|| MapError::InvalidDefinition {
                name: self.name.clone(),
                reason: format!(
                    "an arena of {} pages cannot be mapped",
                    self.def.max_entries
                ),
            })?;
        let address = (self.def.map_extra != 0).then_some(self.def.map_extra);
        let region = MmapRegion::new_at(self.fd(), len, address, true).map_err(|e| {
            match (address, e.errno()) {
                (Some(address), Some(libc::EEXIST)) => MapError::ArenaAddressInUse {
                    name: self.name.clone(),
                    address,
                    len,
                },
                _ => syscall(&self.name, e),
            }
        })?;
        self.arena = Some(region);
        Ok(())
    }

    /// Writes the object's `__arena` globals at `offset` of the arena's mapping (which faults
    /// their pages in, so programs' allocations never hand them out) and records their
    /// variables at their place in the arena.
    pub(crate) fn place_arena_data(
        &mut self,
        offset: u64,
        arena_data: &obj::ArenaData,
    ) -> Result<(), MapError> {
        let name = self.name.clone();
        let size = self.arena.as_ref().map_or(0, MmapRegion::len);
        let out_of_bounds = || MapError::ArenaOutOfBounds {
            name: name.clone(),
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            len: arena_data.data.len(),
            size,
        };
        let start = usize::try_from(offset).map_err(|_| out_of_bounds())?;
        let region = self
            .arena
            .as_mut()
            .ok_or_else(|| MapError::ArenaNotMapped { name: name.clone() })?;
        region
            .write(start, &arena_data.data)
            .ok_or_else(out_of_bounds)?;
        self.variables = arena_data
            .variables
            .iter()
            .map(|v| {
                let offset =
                    u32::try_from(offset + u64::from(v.offset)).map_err(|_| out_of_bounds())?;
                Ok(obj::Variable {
                    offset,
                    ..v.clone()
                })
            })
            .collect::<Result<_, MapError>>()?;
        Ok(())
    }

    /// An arena's mapping, if this handle has it.
    pub(crate) fn arena_region(&self) -> Option<&MmapRegion> {
        self.arena.as_ref()
    }

    /// An arena's mapping, mutably.
    pub(crate) fn arena_region_mut(&mut self) -> Option<&mut MmapRegion> {
        self.arena.as_mut()
    }

    /// The map's fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.fd()
    }

    /// The fd with its checked element operations (key/value lengths are verified).
    #[inline]
    pub fn map_fd(&self) -> &MapFd {
        &self.fd
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The definition the map was created with (or read from the kernel).
    pub fn def(&self) -> &MapDef {
        &self.def
    }

    /// `bpf_map_type::BPF_MAP_TYPE_*`.
    pub fn map_type(&self) -> bpf_map_type::Type {
        self.def.map_type
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> u32 {
        self.def.key_size
    }

    /// Value size in bytes (one CPU's slot for per-CPU maps).
    pub fn value_size(&self) -> u32 {
        self.def.value_size
    }

    /// Maximum number of entries.
    pub fn max_entries(&self) -> u32 {
        self.def.max_entries
    }

    /// `BPF_F_*` flags.
    pub fn map_flags(&self) -> u32 {
        self.def.map_flags
    }

    /// The global variables of a data map (`.data`, `.bss`, `.rodata`), from the object; for an
    /// arena, the object's `__arena` globals at their offsets inside the arena.
    pub fn variables(&self) -> &[obj::Variable] {
        &self.variables
    }

    /// The global variable `variable`, checked to be `size` bytes long.
    pub(crate) fn sized_variable(
        &self,
        variable: &str,
        size: usize,
    ) -> Result<obj::Variable, MapError> {
        let var = self
            .variables
            .iter()
            .find(|v| v.name == variable)
            .cloned()
            .ok_or_else(|| MapError::NoSuchVariable {
                name: self.name.clone(),
                variable: variable.to_owned(),
            })?;
        if var.size as usize != size {
            return Err(MapError::VariableSize {
                name: self.name.clone(),
                variable: variable.to_owned(),
                expected: var.size,
                actual: size,
            });
        }
        Ok(var)
    }

    /// The kernel's view of the map (id, name, sizes, flags, BTF ids).
    pub fn info(&self) -> Result<super::MapInfo, MapError> {
        super::MapInfo::from_data(self)
    }

    /// A second handle on the same kernel map. An arena's mapping stays with the original
    /// handle: [`Arena`](super::Arena) refuses the clone.
    pub fn try_clone(&self) -> Result<MapData, MapError> {
        let fd = self
            .fd()
            .try_clone_to_owned()
            .map_err(|source| MapError::Io {
                name: self.name.clone(),
                what: "duplicating the fd",
                source,
            })?;
        let fd = MapFd::from_fd(fd).map_err(|e| syscall(&self.name, e))?;
        Ok(MapData {
            fd,
            name: self.name.clone(),
            def: self.def.clone(),
            variables: self.variables.clone(),
            pinned: None,
            arena: None,
        })
    }
}

impl AsFd for MapData {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
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

pub(crate) fn syscall(name: &str, source: SyscallError) -> MapError {
    MapError::Syscall {
        name: name.to_owned(),
        source,
    }
}

/// Size in bytes of an arena of definition `def`: `max_entries` pages.
pub(crate) fn arena_size(def: &MapDef) -> Option<u64> {
    u64::from(def.max_entries).checked_mul(bpf_sys::util::page_size() as u64)
}

/// The definition as the kernel wants it: defaults libbpf fills in, size rules checked.
fn effective_def(def: &MapDef, name: &str) -> Result<MapDef, MapError> {
    let mut def = def.clone();
    let invalid = |reason: String| MapError::InvalidDefinition {
        name: name.to_owned(),
        reason,
    };
    match def.map_type {
        bpf_map_type::BPF_MAP_TYPE_PERF_EVENT_ARRAY => {
            if def.key_size == 0 {
                def.key_size = 4;
            }
            if def.value_size == 0 {
                def.value_size = 4;
            }
            let cpus = possible_cpu_count().map_err(|source| MapError::Io {
                name: name.to_owned(),
                what: "reading the possible CPUs",
                source,
            })?;
            let cpus = u32::try_from(cpus).unwrap_or(u32::MAX);
            if def.max_entries == 0 || def.max_entries > cpus {
                def.max_entries = cpus;
            }
        }
        bpf_map_type::BPF_MAP_TYPE_RINGBUF | bpf_map_type::BPF_MAP_TYPE_USER_RINGBUF => {
            let page = bpf_sys::util::page_size() as u32;
            // Size must be a power-of-two multiple of the page size.
            let size = def.max_entries.max(page);
            def.max_entries = size
                .checked_next_power_of_two()
                .ok_or_else(|| invalid(format!("ring buffer size {size} is too large")))?;
        }
        bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS | bpf_map_type::BPF_MAP_TYPE_HASH_OF_MAPS => {
            if def.value_size == 0 {
                def.value_size = 4;
            }
            if def.value_size != 4 {
                return Err(invalid(format!(
                    "map-in-map values are 4-byte fds, declared {}",
                    def.value_size
                )));
            }
        }
        _ => {}
    }
    if def.numa_node.is_some() {
        def.map_flags |= BPF_F_NUMA_NODE;
    }
    if def.map_flags & BPF_F_RDONLY_PROG != 0 && def.map_flags & BPF_F_WRONLY_PROG != 0 {
        return Err(invalid(
            "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together".into(),
        ));
    }
    Ok(def)
}

fn create_fd(def: &MapDef, name: &str, btf_fd: Option<BorrowedFd<'_>>) -> Result<MapFd, MapError> {
    create_fd_with_inner(def, name, btf_fd, None)
}

fn create_fd_with_inner(
    def: &MapDef,
    name: &str,
    btf_fd: Option<BorrowedFd<'_>>,
    inner: Option<BorrowedFd<'_>>,
) -> Result<MapFd, MapError> {
    let kernel_name = kernel_name(name);
    let with_btf = btf_fd.filter(|_| {
        def.key_type_id.is_some()
            || def.value_type_id.is_some()
            || def.btf_vmlinux_value_type_id.is_some()
    });
    let attr = MapCreateAttr {
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        inner_map_fd: inner,
        numa_node: def.numa_node.unwrap_or(0),
        name: &kernel_name,
        btf_fd: with_btf,
        btf_key_type_id: with_btf.and(def.key_type_id).unwrap_or(0),
        btf_value_type_id: with_btf.and(def.value_type_id).unwrap_or(0),
        btf_vmlinux_value_type_id: def.btf_vmlinux_value_type_id.unwrap_or(0),
        map_extra: def.map_extra,
        ..MapCreateAttr::default()
    };
    MapFd::create(&attr).map_err(|e| {
        if e.errno() == Some(libc::EINVAL)
            && crate::features::kernel_knows_map_type(def.map_type) == Some(false)
        {
            return MapError::MapTypeNotSupported {
                name: name.to_owned(),
                map_type: def.map_type,
            };
        }
        // Objects often leave sizes to user space (stack traces, per-CPU hashes); say so.
        if def.max_entries == 0 && e.errno() == Some(libc::EINVAL) && !sized_by_kernel(def.map_type)
        {
            MapError::DefinitionRefused {
                name: name.to_owned(),
                reason: "max_entries is 0; set it with BpfLoader::set_max_entries",
                source: e,
            }
        } else if def.value_size == 0
            && e.errno() == Some(libc::EINVAL)
            && def.map_type == bpf_sys::generated::bpf_map_type::BPF_MAP_TYPE_STACK_TRACE
        {
            MapError::DefinitionRefused {
                name: name.to_owned(),
                reason: "value_size is 0; set it with BpfLoader::set_value_size (stack depth * 8)",
                source: e,
            }
        } else if e.errno() == Some(libc::E2BIG) {
            MapError::TooBig {
                name: name.to_owned(),
                max_entries: def.max_entries,
                key_size: def.key_size,
                value_size: def.value_size,
                source: e,
            }
        } else if crate::kernel::permission::is_permission_errno(e.errno()) {
            MapError::PermissionDenied {
                name: name.to_owned(),
                hint: Box::new(crate::kernel::permission::hint(Operation::CreateMap {
                    map_type: def.map_type,
                })),
                source: e,
            }
        } else {
            syscall(name, e)
        }
    })
}

fn is_map_in_map(map_type: u32) -> bool {
    use bpf_sys::generated::bpf_map_type::{BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS};
    map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || map_type == BPF_MAP_TYPE_HASH_OF_MAPS
}

/// Storage maps must be created with max_entries 0: their size follows their owners.
fn sized_by_kernel(map_type: u32) -> bool {
    use bpf_sys::generated::bpf_map_type::*;
    matches!(
        map_type,
        BPF_MAP_TYPE_SK_STORAGE
            | BPF_MAP_TYPE_INODE_STORAGE
            | BPF_MAP_TYPE_TASK_STORAGE
            | BPF_MAP_TYPE_CGRP_STORAGE
            | BPF_MAP_TYPE_CGROUP_STORAGE
            | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
    )
}

/// The kernel accepts only `[A-Za-z0-9_.]` in object names; anything else becomes `_`.
fn kernel_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(15)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_are_sanitised() {
        assert_eq!(kernel_name("a-b/c.d"), "a_b_c.d");
        assert_eq!(kernel_name("abcdefghijklmnopqrstu"), "abcdefghijklmno");
    }

    #[test]
    fn ringbuf_size_rounds_to_power_of_two_pages() {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_RINGBUF,
            max_entries: 5000,
            ..MapDef::default()
        };
        let page = bpf_sys::util::page_size() as u32;
        let got = effective_def(&def, "rb").map(|d| d.max_entries).ok();
        assert_eq!(got, Some(5000u32.max(page).next_power_of_two()));
    }

    #[test]
    fn map_in_map_value_size_is_checked() {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS,
            value_size: 8,
            ..MapDef::default()
        };
        assert!(matches!(
            effective_def(&def, "m"),
            Err(MapError::InvalidDefinition { .. })
        ));
    }
}
