//! Bloom filters: `BPF_MAP_TYPE_BLOOM_FILTER`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::{Pod, bytes_of_mut};

use super::element::update;
use super::kind::{check_key_len, check_map_type, check_value_size};
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A set of `V` with false positives but no false negatives (`BPF_MAP_TYPE_BLOOM_FILTER`).
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::BloomFilter;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut seen: BloomFilter<_, u32> = BloomFilter::try_from(bpf.map_mut("seen").unwrap())?;
/// seen.insert(42, 0)?;
/// assert!(seen.contains(&42)?); // no false negatives, some false positives
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BloomFilter<T, V> {
    inner: T,
    _v: PhantomData<V>,
}

impl<T: Borrow<MapData>, V: Pod> BloomFilter<T, V> {
    /// Wraps a map after checking its type and value size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_BLOOM_FILTER)?;
        check_key_len(data, 0)?;
        check_value_size::<V>(data)?;
        Ok(BloomFilter {
            inner,
            _v: PhantomData,
        })
    }

    /// False if `value` was certainly never inserted; true if it probably was.
    pub fn contains(&self, value: &V) -> Result<bool, MapError> {
        let data = self.inner.borrow();
        // The kernel reads the value to test from the value buffer.
        let mut probe = *value;
        data.map_fd()
            .lookup(&[], bytes_of_mut(&mut probe), 0)
            .map_err(|e| syscall(data.name(), e))
    }
}

impl<T: BorrowMut<MapData>, V: Pod> BloomFilter<T, V> {
    /// Adds `value`.
    pub fn insert(&mut self, value: impl Borrow<V>, flags: u64) -> Result<(), MapError> {
        update(self.inner.borrow(), &[0u8; 0], value.borrow(), flags)
    }
}

impl<V: Pod> BloomFilter<MapData, V> {
    /// Creates a bloom filter for about `max_entries` values using `hashes` hash functions
    /// (1–15; 0 means the kernel's default of 5).
    pub fn create(max_entries: u32, hashes: u8, flags: u32) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_BLOOM_FILTER,
            key_size: 0,
            value_size: size_of::<V>() as u32,
            max_entries,
            map_flags: flags,
            map_extra: u64::from(hashes & 0xf),
            ..MapDef::default()
        };
        Self::new(MapData::create_raw(&def, "BloomFilter")?)
    }
}

map_wrapper!(BloomFilter<V>);
