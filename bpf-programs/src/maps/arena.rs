//! `BPF_MAP_TYPE_ARENA` (Linux 6.9+): memory shared by programs and user space at the same
//! addresses. The loader maps every arena right after creating it (at `map_extra` when the
//! object sets it) and keeps the mapping for the map's life; [`Arena`] reads and writes through
//! it, by offset or by `__arena` global name.

use std::borrow::{Borrow, BorrowMut};

use bpf_core::obj::Variable;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::mmap::MmapRegion;
use bpf_sys::pod::{Pod, bytes_of, bytes_of_mut, zeroed};

use super::kind::check_map_type;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A live view of an arena. Programs may change any byte at any time, so every access copies:
/// no Rust reference ever points into the arena.
///
/// Offsets are from the start of the arena; a pointer a program stored (an `__arena` pointer
/// is the user-space address) converts with [`Arena::offset_of`].
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::Arena;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let arena = Arena::try_from(bpf.map("arena").unwrap())?;
/// let counter: u64 = arena.get("counter")?; // an `__arena` global
/// let first: u64 = arena.read_at(0)?;
/// println!("{counter} {first}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Arena<T> {
    inner: T,
}

impl<T: Borrow<MapData>> Arena<T> {
    /// Wraps an arena map; fails unless this handle holds the arena's mapping (the one the
    /// loader made when creating it).
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_ARENA)?;
        if data.arena_region().is_none() {
            return Err(MapError::ArenaNotMapped {
                name: data.name().to_owned(),
            });
        }
        Ok(Arena { inner })
    }

    /// The mapping (checked by [`Arena::new`]; a `MapData` never loses it).
    fn region(&self) -> Option<&MmapRegion> {
        self.inner.borrow().arena_region()
    }

    /// Size of the arena in bytes (`max_entries` pages).
    pub fn len(&self) -> usize {
        self.region().map_or(0, MmapRegion::len)
    }

    /// Always false: arenas have at least one page.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The user-space address of the arena's first byte: what `__arena` pointers hold.
    pub fn address(&self) -> u64 {
        self.region().map_or(0, MmapRegion::address)
    }

    /// The offset of user-space address `address` (an `__arena` pointer a program stored)
    /// inside the arena, if it points into it.
    pub fn offset_of(&self, address: u64) -> Option<usize> {
        let offset = usize::try_from(address.checked_sub(self.address())?).ok()?;
        (offset < self.len()).then_some(offset)
    }

    /// Copies `out.len()` bytes from `offset`. Reading a page no program allocated makes the
    /// kernel allocate it (zeroed), as any access to an arena mapping does.
    pub fn read_bytes(&self, offset: usize, out: &mut [u8]) -> Result<(), MapError> {
        self.region()
            .and_then(|region| region.read(offset, out))
            .ok_or_else(|| self.out_of_bounds(offset, out.len()))
    }

    /// The `V` at byte `offset`.
    pub fn read_at<V: Pod>(&self, offset: usize) -> Result<V, MapError> {
        let mut value = zeroed::<V>();
        self.read_bytes(offset, bytes_of_mut(&mut value))?;
        Ok(value)
    }

    /// The current value of `__arena` global `name`; `V` must have the variable's size.
    pub fn get<V: Pod>(&self, name: &str) -> Result<V, MapError> {
        let var = self.variable::<V>(name)?;
        self.read_at(var.offset as usize)
    }

    /// The object's `__arena` globals, with their offsets inside the arena (at its end, where
    /// libbpf places them). Empty for an arena not created from an object with such globals.
    pub fn variables(&self) -> &[Variable] {
        self.inner.borrow().variables()
    }

    fn variable<V>(&self, name: &str) -> Result<Variable, MapError> {
        self.inner.borrow().sized_variable(name, size_of::<V>())
    }

    fn out_of_bounds(&self, offset: usize, len: usize) -> MapError {
        MapError::ArenaOutOfBounds {
            name: self.inner.borrow().name().to_owned(),
            offset,
            len,
            size: self.len(),
        }
    }
}

impl<T: BorrowMut<MapData>> Arena<T> {
    /// Copies `data` to byte `offset`.
    pub fn write_bytes(&mut self, offset: usize, data: &[u8]) -> Result<(), MapError> {
        let error = self.out_of_bounds(offset, data.len());
        self.inner
            .borrow_mut()
            .arena_region_mut()
            .and_then(|region| region.write(offset, data))
            .ok_or(error)
    }

    /// Writes `value` at byte `offset`.
    pub fn write_at<V: Pod>(&mut self, offset: usize, value: &V) -> Result<(), MapError> {
        self.write_bytes(offset, bytes_of(value))
    }

    /// Sets `__arena` global `name`; `V` must have the variable's size.
    pub fn set<V: Pod>(&mut self, name: &str, value: &V) -> Result<(), MapError> {
        let var = self.variable::<V>(name)?;
        self.write_at(var.offset as usize, value)
    }
}

map_wrapper!(Arena);
