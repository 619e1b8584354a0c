//! Arrays: `BPF_MAP_TYPE_ARRAY`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::Pod;

use super::batch::{BatchResult, default_chunk, lookup_all};
use super::element::{check_index, lookup, update};
use super::kind::{check_key_size, check_map_type, check_value_size};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A fixed-size array of `V` indexed by `u32` (`BPF_MAP_TYPE_ARRAY`). Every index exists.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::Array;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut config: Array<_, u32> = Array::try_from(bpf.map_mut("config").unwrap())?;
/// config.set(0, 1500, 0)?;
/// assert_eq!(config.get(0, 0)?, 1500);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Array<T, V> {
    inner: T,
    _v: PhantomData<V>,
}

impl<T: Borrow<MapData>, V: Pod> Array<T, V> {
    /// Wraps a map after checking its type and value size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_ARRAY)?;
        check_key_size::<u32>(data)?;
        check_value_size::<V>(data)?;
        Ok(Array {
            inner,
            _v: PhantomData,
        })
    }

    /// Number of elements (`max_entries`).
    pub fn len(&self) -> u32 {
        self.inner.borrow().max_entries()
    }

    /// True for a zero-sized array.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index`. `flags` may be `BPF_F_LOCK`.
    #[inline]
    pub fn get(&self, index: u32, flags: u64) -> Result<V, MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        lookup(data, &index, flags)?.ok_or_else(|| MapError::KeyNotFound {
            name: data.name().to_owned(),
        })
    }

    /// The values from index 0 up.
    pub fn iter(&self) -> impl Iterator<Item = Result<V, MapError>> + '_ {
        (0..self.len()).map(move |i| self.get(i, 0))
    }

    /// Every value, fetched in batches (index order).
    pub fn batch_lookup(&self) -> Result<Vec<V>, MapError> {
        let data = self.inner.borrow();
        let mut keys: Vec<u32> = Vec::new();
        let mut values: Vec<V> = Vec::new();
        match lookup_all(data, 1, &mut keys, &mut values, default_chunk(data), false)? {
            BatchResult::Done => Ok(values),
            BatchResult::Unsupported => self.iter().collect(),
        }
    }
}

impl<T: BorrowMut<MapData>, V: Pod> Array<T, V> {
    /// Writes `value` at `index`; `flags` is `BPF_ANY`/`BPF_EXIST` (| `BPF_F_LOCK`).
    #[inline]
    pub fn set(&mut self, index: u32, value: impl Borrow<V>, flags: u64) -> Result<(), MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        update(data, &index, value.borrow(), flags)
    }
}

impl<V: Pod> Array<MapData, V> {
    /// Creates an array from user space; `flags` may hold `BPF_F_MMAPABLE`, `BPF_F_RDONLY_PROG`….
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY,
            key_size: 4,
            value_size: size_of::<V>() as u32,
            max_entries,
            map_flags: flags,
            ..MapDef::default()
        };
        Self::new(MapData::create_raw(&def, "Array")?)
    }
}

map_wrapper!(Array<V>);
