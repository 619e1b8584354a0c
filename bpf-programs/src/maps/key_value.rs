//! [`KeyValueMap`]: the typed key → value map behind [`HashMap`](super::HashMap),
//! [`LruHashMap`](super::LruHashMap) and [`CgroupStorage`](super::CgroupStorage).

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_sys::pod::{Pod, slice_bytes};
use bpf_sys::{BpfCommand, SyscallError};

use super::batch::{BatchResult, default_chunk, lookup_all};
use super::element::{delete, lookup, lookup_and_delete, update};
use super::kind::{KeyValueKind, check_key_size, check_kind, check_value_size, create_kind_named};
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{IterableMap, MapData, MapError, MapIter, MapKeys};

/// A typed map of one `V` per `K`; `Kind` ([`HashKind`](super::hash_map::HashKind), …) says which
/// kernel map types it accepts. Used through its aliases: [`HashMap`](super::HashMap),
/// [`LruHashMap`](super::LruHashMap), [`CgroupStorage`](super::CgroupStorage).
///
/// `T` is `&MapData`, `&mut MapData` or `MapData`; writing needs the latter two.
#[derive(Debug)]
pub struct KeyValueMap<T, K, V, Kind> {
    inner: T,
    _kv: PhantomData<(K, V, Kind)>,
}

impl<T: Borrow<MapData>, K: Pod, V: Pod, Kind: KeyValueKind> KeyValueMap<T, K, V, Kind> {
    /// Wraps a map after checking its type and key/value sizes.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_kind::<Kind>(data)?;
        check_key_size::<K>(data)?;
        check_value_size::<V>(data)?;
        Ok(KeyValueMap {
            inner,
            _kv: PhantomData,
        })
    }

    /// The value at `key`, `None` if absent. `flags` may be `BPF_F_LOCK`.
    #[inline]
    pub fn get(&self, key: &K, flags: u64) -> Result<Option<V>, MapError> {
        lookup(self.inner.borrow(), key, flags)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &K) -> Result<bool, MapError> {
        Ok(self.get(key, 0)?.is_some())
    }

    /// The keys, walked with `BPF_MAP_GET_NEXT_KEY`.
    pub fn keys(&self) -> MapKeys<'_, K> {
        MapKeys::new(self.inner.borrow())
    }

    /// The entries, each value looked up when its key is reached.
    pub fn iter(&self) -> MapIter<'_, K, V, Self> {
        MapIter::new(self)
    }

    /// Every entry, fetched in batches of up to 4096 (falls back to a key walk).
    pub fn batch_lookup(&self) -> Result<Vec<(K, V)>, MapError> {
        self.batch_lookup_chunked(default_chunk(self.inner.borrow()))
    }

    /// Every entry into `keys` and `values` (their contents replaced), fetched in batches of up
    /// to 4096; returns how many. Their capacity is kept, so passing the same vectors again
    /// reads the map without allocating.
    pub fn batch_lookup_into(
        &self,
        keys: &mut Vec<K>,
        values: &mut Vec<V>,
    ) -> Result<usize, MapError> {
        let data = self.inner.borrow();
        // Written over in place: a second walk with the same vectors zeroes nothing.
        match lookup_all(data, 1, keys, values, default_chunk(data), false)? {
            BatchResult::Done => Ok(keys.len()),
            BatchResult::Unsupported => {
                for entry in self.iter() {
                    let (key, value) = entry?;
                    keys.push(key);
                    values.push(value);
                }
                Ok(keys.len())
            }
        }
    }

    /// Every entry, fetched `chunk` entries per `BPF_MAP_LOOKUP_BATCH` call.
    pub fn batch_lookup_chunked(&self, chunk: u32) -> Result<Vec<(K, V)>, MapError> {
        let data = self.inner.borrow();
        let mut keys = Vec::new();
        let mut values = Vec::new();
        match lookup_all(data, 1, &mut keys, &mut values, chunk, false)? {
            BatchResult::Done => Ok(keys.into_iter().zip(values).collect()),
            BatchResult::Unsupported => self.iter().collect(),
        }
    }
}

impl<T: BorrowMut<MapData>, K: Pod, V: Pod, Kind: KeyValueKind> KeyValueMap<T, K, V, Kind> {
    /// Inserts or updates `key`; `flags` is `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST` (| `BPF_F_LOCK`).
    #[inline]
    pub fn insert(
        &mut self,
        key: impl Borrow<K>,
        value: impl Borrow<V>,
        flags: u64,
    ) -> Result<(), MapError> {
        update(self.inner.borrow(), key.borrow(), value.borrow(), flags)
    }

    /// Removes `key`; [`MapError::KeyNotFound`] if absent.
    pub fn remove(&mut self, key: &K) -> Result<(), MapError> {
        delete(self.inner.borrow(), key)
    }

    /// Removes `key` and returns its value (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`).
    pub fn take(&mut self, key: &K) -> Result<Option<V>, MapError> {
        lookup_and_delete(self.inner.borrow(), key, 0)
    }

    /// Writes all pairs in one call; returns how many were written.
    pub fn batch_update(&mut self, keys: &[K], values: &[V], flags: u64) -> Result<u32, MapError> {
        let data = self.inner.borrow();
        if keys.len() != values.len() {
            return Err(MapError::ValueSize {
                name: data.name().to_owned(),
                expected: keys.len() as u32,
                actual: values.len(),
            });
        }
        data.map_fd()
            .update_batch(slice_bytes(keys), slice_bytes(values), flags)
            .map_err(|e| syscall(data.name(), e))
    }

    /// Deletes all `keys` in one call; returns how many were deleted.
    pub fn batch_remove(&mut self, keys: &[K]) -> Result<u32, MapError> {
        let data = self.inner.borrow();
        data.map_fd()
            .delete_batch(slice_bytes(keys), 0)
            .map_err(|e| syscall(data.name(), e))
    }

    /// Removes and returns every entry, in batches.
    pub fn batch_take_all(&mut self) -> Result<Vec<(K, V)>, MapError> {
        let data = self.inner.borrow();
        let mut keys = Vec::new();
        let mut values = Vec::new();
        match lookup_all(data, 1, &mut keys, &mut values, default_chunk(data), true)? {
            BatchResult::Done => Ok(keys.into_iter().zip(values).collect()),
            BatchResult::Unsupported => Err(MapError::Syscall {
                name: data.name().to_owned(),
                source: SyscallError::from_errno(
                    BpfCommand::MapLookupAndDeleteBatch,
                    libc::EOPNOTSUPP,
                ),
            }),
        }
    }
}

impl<K: Pod, V: Pod, Kind: KeyValueKind> KeyValueMap<MapData, K, V, Kind> {
    /// Creates the map from user space, named after the type.
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        Self::create_named(Kind::NAME, max_entries, flags)
    }

    /// Creates the map from user space with a kernel name.
    pub fn create_named(name: &str, max_entries: u32, flags: u32) -> Result<Self, MapError> {
        Self::new(create_kind_named::<Kind>(
            name,
            size_of::<K>(),
            size_of::<V>(),
            max_entries,
            flags,
        )?)
    }
}

impl<T: Borrow<MapData>, K: Pod, V: Pod, Kind: KeyValueKind> IterableMap<K, V>
    for KeyValueMap<T, K, V, Kind>
{
    fn map_data(&self) -> &MapData {
        self.inner.borrow()
    }
    fn lookup_for_iter(&self, key: &K) -> Result<Option<V>, MapError> {
        self.get(key, 0)
    }
}

map_wrapper!(KeyValueMap<K, V> where Kind: KeyValueKind);
