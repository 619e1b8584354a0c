//! [`MapData`]: an owned map fd with its name and definition. Created in map_create.rs,
//! opened and pinned in map_open.rs, an arena's mapping in arena_mapping.rs, untyped element
//! calls in element.rs.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use bpf_core::obj::{self, MapDef};
use bpf_sys::SyscallError;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::map::MapFd;
use bpf_sys::mmap::MmapRegion;

use super::error::MapError;

/// A created (or opened) map: the fd, its name and the attributes the kernel knows it by.
#[derive(Debug)]
pub struct MapData {
    pub(super) fd: MapFd,
    pub(super) name: String,
    pub(super) def: MapDef,
    pub(super) variables: Vec<obj::Variable>,
    pub(super) pinned: Option<PathBuf>,
    /// An arena's mapping, made right after creation and kept for the map's life: its address
    /// is the arena's user-space address, which programs need set before they load.
    pub(super) arena: Option<MmapRegion>,
}

impl MapData {
    /// Bytes a value takes in user space: `value_size`, or for per-CPU maps one 8-byte aligned
    /// slot per possible CPU.
    pub fn value_buf_size(&self) -> usize {
        self.fd.value_buf_size()
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
