//! Hashes of maps: `BPF_MAP_TYPE_HASH_OF_MAPS`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;
use std::os::fd::BorrowedFd;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::Pod;

use super::element::{delete, lookup, update_fd};
use super::kind::{check_key_size, check_map_type};
use super::wrapper::map_wrapper;
use super::{MapData, MapError, MapKeys};

/// Inner maps by key (`BPF_MAP_TYPE_HASH_OF_MAPS`). Reading a key yields the inner map's id.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::{Array, HashOfMaps, MapData};
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let inner: Array<MapData, u64> = Array::create(16, 0)?;
/// let mut outer: HashOfMaps<_, u32> = HashOfMaps::try_from(bpf.map_mut("by_tenant").unwrap())?;
/// outer.insert(&7, inner.fd(), 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct HashOfMaps<T, K> {
    inner: T,
    _k: PhantomData<K>,
}

impl<T: Borrow<MapData>, K: Pod> HashOfMaps<T, K> {
    /// Wraps a map after checking its type and key size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_HASH_OF_MAPS)?;
        check_key_size::<K>(data)?;
        Ok(HashOfMaps {
            inner,
            _k: PhantomData,
        })
    }

    /// Id of the inner map at `key`, `None` if absent.
    pub fn get(&self, key: &K) -> Result<Option<u32>, MapError> {
        lookup(self.inner.borrow(), key, 0)
    }

    /// The keys.
    pub fn keys(&self) -> MapKeys<'_, K> {
        MapKeys::new(self.inner.borrow())
    }
}

impl<T: BorrowMut<MapData>, K: Pod> HashOfMaps<T, K> {
    /// Stores the map `fd` (compatible with the inner template) under `key`.
    pub fn insert(&mut self, key: &K, map: BorrowedFd<'_>, flags: u64) -> Result<(), MapError> {
        update_fd(self.inner.borrow(), key, map, flags)
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) -> Result<(), MapError> {
        delete(self.inner.borrow(), key)
    }
}

impl<K: Pod> HashOfMaps<MapData, K> {
    /// Creates a hash of maps whose inner maps look like `template`.
    pub fn create(max_entries: u32, template: BorrowedFd<'_>) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_HASH_OF_MAPS,
            key_size: size_of::<K>() as u32,
            value_size: 4,
            max_entries,
            ..MapDef::default()
        };
        Self::new(MapData::create_with_inner(&def, "HashOfMaps", template)?)
    }
}

map_wrapper!(HashOfMaps<K>);
