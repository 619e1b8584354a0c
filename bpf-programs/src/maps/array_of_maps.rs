//! Arrays of maps: `BPF_MAP_TYPE_ARRAY_OF_MAPS`.

use std::borrow::{Borrow, BorrowMut};
use std::os::fd::BorrowedFd;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;

use super::element::{check_index, delete, lookup, update_fd};
use super::kind::{check_key_size, check_map_type};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// Inner maps by index (`BPF_MAP_TYPE_ARRAY_OF_MAPS`). Reading a slot yields the inner map's id.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::{Array, ArrayOfMaps, MapData};
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let inner: Array<MapData, u64> = Array::create(16, 0)?; // the shape the object declares
/// let mut outer = ArrayOfMaps::try_from(bpf.map_mut("per_tenant").unwrap())?;
/// outer.set(0, inner.fd(), 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ArrayOfMaps<T> {
    inner: T,
}

impl<T: Borrow<MapData>> ArrayOfMaps<T> {
    /// Wraps a map after checking its type.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS)?;
        check_key_size::<u32>(data)?;
        Ok(ArrayOfMaps { inner })
    }

    /// Id of the inner map at `index`, `None` if the slot is empty.
    pub fn get(&self, index: u32) -> Result<Option<u32>, MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        lookup(data, &index, 0)
    }
}

impl<T: BorrowMut<MapData>> ArrayOfMaps<T> {
    /// Stores the map `fd` (compatible with the inner template) at `index`.
    pub fn set(&mut self, index: u32, map: BorrowedFd<'_>, flags: u64) -> Result<(), MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        update_fd(data, &index, map, flags)
    }

    /// Empties slot `index`.
    pub fn clear_index(&mut self, index: u32) -> Result<(), MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        delete(data, &index)
    }
}

impl ArrayOfMaps<MapData> {
    /// Creates an array of maps whose inner maps look like `template`.
    pub fn create(max_entries: u32, template: BorrowedFd<'_>) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS,
            key_size: 4,
            value_size: 4,
            max_entries,
            ..MapDef::default()
        };
        Self::new(MapData::create_with_inner(&def, "ArrayOfMaps", template)?)
    }
}

map_wrapper!(ArrayOfMaps);
