//! Longest-prefix-match tries: `BPF_MAP_TYPE_LPM_TRIE`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::{Pod, bytes_of, bytes_of_mut, read, zeroed};

use super::element::delete_bytes;
use super::flags::BPF_F_NO_PREALLOC;
use super::kind::{check_key_len, check_map_type, check_value_size};
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A trie key: the first `prefix_len` bits of `data` (network byte order for addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<K> {
    /// Number of significant bits of `data`.
    pub prefix_len: u32,
    /// The key bytes, e.g. `[u8; 4]` for IPv4.
    pub data: K,
}

impl<K: Pod> Key<K> {
    /// A key of the first `prefix_len` bits of `data`.
    pub fn new(prefix_len: u32, data: K) -> Self {
        Key { prefix_len, data }
    }

    fn encode(&self, buf: &mut Vec<u8>) {
        buf.clear();
        buf.extend_from_slice(&self.prefix_len.to_ne_bytes());
        buf.extend_from_slice(bytes_of(&self.data));
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Key {
            prefix_len: read::<u32>(bytes)?,
            data: read::<K>(bytes.get(4..)?)?,
        })
    }
}

/// Values by longest matching prefix (`BPF_MAP_TYPE_LPM_TRIE`).
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::LpmTrie;
/// use bpf_programs::maps::lpm_trie::Key;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut routes: LpmTrie<_, [u8; 4], u32> = LpmTrie::try_from(bpf.map_mut("routes").unwrap())?;
/// routes.insert(&Key::new(8, [10, 0, 0, 0]), 1, 0)?; // 10.0.0.0/8
/// assert_eq!(routes.get(&Key::new(32, [10, 1, 2, 3]), 0)?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LpmTrie<T, K, V> {
    inner: T,
    _kv: PhantomData<(K, V)>,
}

impl<T: Borrow<MapData>, K: Pod, V: Pod> LpmTrie<T, K, V> {
    /// Wraps a map after checking its type and key/value sizes (key = 4-byte prefix + `K`).
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_LPM_TRIE)?;
        check_key_len(data, 4 + size_of::<K>())?;
        check_value_size::<V>(data)?;
        Ok(LpmTrie {
            inner,
            _kv: PhantomData,
        })
    }

    /// The value of the longest prefix matching `key`, `None` if nothing matches.
    pub fn get(&self, key: &Key<K>, flags: u64) -> Result<Option<V>, MapError> {
        let data = self.inner.borrow();
        let mut buf = Vec::with_capacity(4 + size_of::<K>());
        key.encode(&mut buf);
        let mut value = zeroed::<V>();
        match data.map_fd().lookup(&buf, bytes_of_mut(&mut value), flags) {
            Ok(true) => Ok(Some(value)),
            Ok(false) => Ok(None),
            Err(e) => Err(syscall(data.name(), e)),
        }
    }

    /// Every stored prefix.
    pub fn keys(&self) -> Result<Vec<Key<K>>, MapError> {
        let data = self.inner.borrow();
        let len = 4 + size_of::<K>();
        let mut keys = Vec::new();
        let mut current: Option<Vec<u8>> = None;
        loop {
            let mut next = vec![0u8; len];
            let more = data
                .map_fd()
                .next_key(current.as_deref(), &mut next)
                .map_err(|e| syscall(data.name(), e))?;
            if !more {
                return Ok(keys);
            }
            if let Some(key) = Key::decode(&next) {
                keys.push(key);
            }
            current = Some(next);
        }
    }
}

impl<T: BorrowMut<MapData>, K: Pod, V: Pod> LpmTrie<T, K, V> {
    /// Stores `value` for the prefix `key`.
    pub fn insert(
        &mut self,
        key: &Key<K>,
        value: impl Borrow<V>,
        flags: u64,
    ) -> Result<(), MapError> {
        let data = self.inner.borrow();
        let mut buf = Vec::with_capacity(4 + size_of::<K>());
        key.encode(&mut buf);
        data.map_fd()
            .update(&buf, bytes_of(value.borrow()), flags)
            .map_err(|e| super::element::update_error(data.name(), flags, e))
    }

    /// Removes the exact prefix `key`.
    pub fn remove(&mut self, key: &Key<K>) -> Result<(), MapError> {
        let mut buf = Vec::with_capacity(4 + size_of::<K>());
        key.encode(&mut buf);
        delete_bytes(self.inner.borrow(), &buf)
    }
}

impl<K: Pod, V: Pod> LpmTrie<MapData, K, V> {
    /// Creates a trie from user space (`BPF_F_NO_PREALLOC` is required and added).
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_LPM_TRIE,
            key_size: (4 + size_of::<K>()) as u32,
            value_size: size_of::<V>() as u32,
            max_entries,
            map_flags: flags | BPF_F_NO_PREALLOC,
            ..MapDef::default()
        };
        Self::new(MapData::create_raw(&def, "LpmTrie")?)
    }
}

map_wrapper!(LpmTrie<K, V>);
