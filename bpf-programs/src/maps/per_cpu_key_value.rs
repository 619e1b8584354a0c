//! [`PerCpuKeyValueMap`]: the typed key → per-CPU values map behind
//! [`PerCpuHashMap`](super::PerCpuHashMap), [`LruPerCpuHashMap`](super::LruPerCpuHashMap) and
//! [`PerCpuCgroupStorage`](super::PerCpuCgroupStorage).

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_sys::pod::Pod;

use super::element::delete;
use super::kind::{PerCpuKeyValueKind, check_key_size, check_kind, check_value_size, create_kind};
use super::per_cpu::{batch_lookup_per_cpu, lookup_per_cpu, update_per_cpu};
use super::wrapper::map_wrapper;
use super::{IterableMap, MapData, MapError, MapIter, MapKeys, PerCpuValues};

/// A typed map of one `V` per possible CPU per `K`; `Kind`
/// ([`PerCpuHashKind`](super::per_cpu_hash_map::PerCpuHashKind), …) says which kernel map
/// types it accepts.
/// Used through its aliases: [`PerCpuHashMap`](super::PerCpuHashMap),
/// [`LruPerCpuHashMap`](super::LruPerCpuHashMap),
/// [`PerCpuCgroupStorage`](super::PerCpuCgroupStorage).
///
/// Values are [`PerCpuValues`], one slot per possible CPU. `T` is `&MapData`, `&mut MapData`
/// or `MapData`; writing needs the latter two.
#[derive(Debug)]
pub struct PerCpuKeyValueMap<T, K, V, Kind> {
    inner: T,
    _kv: PhantomData<(K, V, Kind)>,
}

impl<T: Borrow<MapData>, K: Pod, V: Pod, Kind: PerCpuKeyValueKind>
    PerCpuKeyValueMap<T, K, V, Kind>
{
    /// Wraps a map after checking its type and key/value sizes (`V` is one CPU's value).
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_kind::<Kind>(data)?;
        check_key_size::<K>(data)?;
        check_value_size::<V>(data)?;
        Ok(PerCpuKeyValueMap {
            inner,
            _kv: PhantomData,
        })
    }

    /// Every CPU's value at `key`, `None` if absent.
    pub fn get(&self, key: &K, flags: u64) -> Result<Option<PerCpuValues<V>>, MapError> {
        lookup_per_cpu(self.inner.borrow(), key, flags)
    }

    /// The keys, walked with `BPF_MAP_GET_NEXT_KEY`.
    pub fn keys(&self) -> MapKeys<'_, K> {
        MapKeys::new(self.inner.borrow())
    }

    /// The entries, each value looked up when its key is reached.
    pub fn iter(&self) -> MapIter<'_, K, PerCpuValues<V>, Self> {
        MapIter::new(self)
    }

    /// Every entry, fetched in batches (falls back to a key walk).
    pub fn batch_lookup(&self) -> Result<Vec<(K, PerCpuValues<V>)>, MapError> {
        match batch_lookup_per_cpu(self.inner.borrow())? {
            Some(entries) => Ok(entries),
            None => self.iter().collect(),
        }
    }
}

impl<T: BorrowMut<MapData>, K: Pod, V: Pod, Kind: PerCpuKeyValueKind>
    PerCpuKeyValueMap<T, K, V, Kind>
{
    /// Inserts or updates `key` with one value per CPU.
    pub fn insert(
        &mut self,
        key: impl Borrow<K>,
        values: &PerCpuValues<V>,
        flags: u64,
    ) -> Result<(), MapError> {
        update_per_cpu(self.inner.borrow(), key.borrow(), values, flags)
    }

    /// Removes `key`; [`MapError::KeyNotFound`] if absent.
    pub fn remove(&mut self, key: &K) -> Result<(), MapError> {
        delete(self.inner.borrow(), key)
    }
}

impl<K: Pod, V: Pod, Kind: PerCpuKeyValueKind> PerCpuKeyValueMap<MapData, K, V, Kind> {
    /// Creates the map from user space, named after the type.
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        Self::new(create_kind::<Kind>(
            size_of::<K>(),
            size_of::<V>(),
            max_entries,
            flags,
        )?)
    }
}

impl<T: Borrow<MapData>, K: Pod, V: Pod, Kind: PerCpuKeyValueKind> IterableMap<K, PerCpuValues<V>>
    for PerCpuKeyValueMap<T, K, V, Kind>
{
    fn map_data(&self) -> &MapData {
        self.inner.borrow()
    }
    fn lookup_for_iter(&self, key: &K) -> Result<Option<PerCpuValues<V>>, MapError> {
        self.get(key, 0)
    }
}

map_wrapper!(PerCpuKeyValueMap<K, V> where Kind: PerCpuKeyValueKind);
