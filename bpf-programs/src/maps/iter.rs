//! Key and entry iteration over `BPF_MAP_GET_NEXT_KEY`.
//!
//! When the current key is deleted concurrently the kernel restarts hash and trie walks from
//! the first key, so a walk never stops early but may see a key twice; entries whose lookup
//! finds them gone are skipped.

use std::marker::PhantomData;

use bpf_sys::pod::{Pod, bytes_of, bytes_of_mut, zeroed};

use super::map_data::syscall;
use super::{MapData, MapError};

/// The keys of a map, in the kernel's order.
#[derive(Debug)]
pub struct MapKeys<'a, K> {
    data: &'a MapData,
    current: Option<K>,
    done: bool,
}

impl<'a, K: Pod> MapKeys<'a, K> {
    pub(crate) fn new(data: &'a MapData) -> Self {
        MapKeys {
            data,
            current: None,
            done: false,
        }
    }
}

impl<K: Pod> Iterator for MapKeys<'_, K> {
    type Item = Result<K, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut next = zeroed::<K>();
        let result = self
            .data
            .map_fd()
            .next_key(self.current.as_ref().map(bytes_of), bytes_of_mut(&mut next));
        match result {
            Ok(true) => {
                self.current = Some(next);
                Some(Ok(next))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(syscall(self.data.name(), e)))
            }
        }
    }
}

/// A map whose entries can be walked key by key.
pub trait IterableMap<K: Pod, V> {
    /// The map's data.
    fn map_data(&self) -> &MapData;
    /// The value at `key`, `None` if it was deleted meanwhile.
    fn lookup_for_iter(&self, key: &K) -> Result<Option<V>, MapError>;
}

/// The entries of a map: each key with its value looked up as the walk reaches it.
#[derive(Debug)]
pub struct MapIter<'a, K, V, M> {
    keys: MapKeys<'a, K>,
    map: &'a M,
    _v: PhantomData<V>,
}

impl<'a, K: Pod, V, M: IterableMap<K, V>> MapIter<'a, K, V, M> {
    pub(crate) fn new(map: &'a M) -> Self {
        MapIter {
            keys: MapKeys::new(map.map_data()),
            map,
            _v: PhantomData,
        }
    }
}

impl<K: Pod, V, M: IterableMap<K, V>> Iterator for MapIter<'_, K, V, M> {
    type Item = Result<(K, V), MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = match self.keys.next()? {
                Ok(key) => key,
                Err(e) => return Some(Err(e)),
            };
            match self.map.lookup_for_iter(&key) {
                Ok(Some(value)) => return Some(Ok((key, value))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
