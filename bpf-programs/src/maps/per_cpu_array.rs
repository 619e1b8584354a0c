//! Per-CPU arrays: `BPF_MAP_TYPE_PERCPU_ARRAY`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::{Pod, bytes_of};

use super::batch::{BatchResult, default_chunk, lookup_all};
use super::element::check_index;
use super::kind::{check_key_size, check_map_type, check_value_size};
use super::map_data::syscall;
use super::per_cpu::kernel_buf;
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
        let mut buf = kernel_buf::<V>()?;
        match data.map_fd().lookup(bytes_of(&index), &mut buf, flags) {
            Ok(true) => Ok(PerCpuValues::from_kernel_bytes(&buf)),
            Ok(false) => Err(MapError::KeyNotFound {
                name: data.name().to_owned(),
            }),
            Err(e) => Err(syscall(data.name(), e)),
        }
    }

    /// Every index's per-CPU values, fetched in batches (index order).
    pub fn batch_lookup(&self) -> Result<Vec<PerCpuValues<V>>, MapError> {
        let data = self.inner.borrow();
        let per_entry = data.map_fd().value_buf_size();
        let mut keys: Vec<u32> = Vec::new();
        let mut values: Vec<u8> = Vec::new();
        match lookup_all(
            data,
            per_entry,
            &mut keys,
            &mut values,
            default_chunk(data),
            false,
        )? {
            BatchResult::Done => Ok(values
                .chunks_exact(per_entry.max(1))
                .map(PerCpuValues::from_kernel_bytes)
                .collect()),
            BatchResult::Unsupported => self.iter().collect(),
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
        let mut buf = kernel_buf::<V>()?;
        values.to_kernel_bytes(&mut buf);
        data.map_fd()
            .update(bytes_of(&index), &buf, flags)
            .map_err(|e| super::element::update_error(data.name(), flags, e))
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
