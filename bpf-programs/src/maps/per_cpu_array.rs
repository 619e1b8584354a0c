//! Per-CPU arrays: `BPF_MAP_TYPE_PERCPU_ARRAY`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::Pod;

use super::element::check_index;
use super::kind::{check_key_size, check_map_type, check_value_size};
use super::per_cpu::{batch_lookup_per_cpu, lookup_per_cpu, update_per_cpu};
use super::wrapper::map_wrapper;
use super::{MapData, MapError, PerCpuValues};

/// An array with one `V` per possible CPU at each index (`BPF_MAP_TYPE_PERCPU_ARRAY`).
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::PerCpuArray;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let counters: PerCpuArray<_, u64> = PerCpuArray::try_from(bpf.map("counters").unwrap())?;
/// let total: u64 = counters.get(0, 0)?.iter_values().sum();
/// println!("{total}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PerCpuArray<T, V> {
    inner: T,
    _v: PhantomData<V>,
}

impl<T: Borrow<MapData>, V: Pod> PerCpuArray<T, V> {
    /// Wraps a map after checking its type and value size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY)?;
        check_key_size::<u32>(data)?;
        check_value_size::<V>(data)?;
        Ok(PerCpuArray {
            inner,
            _v: PhantomData,
        })
    }

    /// Number of indexes (`max_entries`).
    pub fn len(&self) -> u32 {
        self.inner.borrow().max_entries()
    }

    /// True for a zero-sized array.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every CPU's value at `index`.
    pub fn get(&self, index: u32, flags: u64) -> Result<PerCpuValues<V>, MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        lookup_per_cpu(data, &index, flags)?.ok_or_else(|| MapError::KeyNotFound {
            name: data.name().to_owned(),
        })
    }

    /// Every index's per-CPU values, fetched in batches (index order).
    pub fn batch_lookup(&self) -> Result<Vec<PerCpuValues<V>>, MapError> {
        match batch_lookup_per_cpu::<u32, V>(self.inner.borrow())? {
            Some(entries) => Ok(entries.into_iter().map(|(_, values)| values).collect()),
            None => self.iter().collect(),
        }
    }

    /// The per-CPU values from index 0 up.
    pub fn iter(&self) -> impl Iterator<Item = Result<PerCpuValues<V>, MapError>> + '_ {
        (0..self.len()).map(move |i| self.get(i, 0))
    }
}

impl<T: BorrowMut<MapData>, V: Pod> PerCpuArray<T, V> {
    /// Writes one value per CPU at `index`.
    pub fn set(
        &mut self,
        index: u32,
        values: &PerCpuValues<V>,
        flags: u64,
    ) -> Result<(), MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        update_per_cpu(data, &index, values, flags)
    }
}

impl<V: Pod> PerCpuArray<MapData, V> {
    /// Creates a per-CPU array from user space.
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY,
            key_size: 4,
            value_size: size_of::<V>() as u32,
            max_entries,
            map_flags: flags,
            ..MapDef::default()
        };
        Self::new(MapData::create_raw(&def, "PerCpuArray")?)
    }
}

map_wrapper!(PerCpuArray<V>);
