//! [`PerCpuValues`]: one value per possible CPU, as per-CPU maps hold them.

use std::ops::{Deref, DerefMut};

use bpf_sys::pod::{Pod, bytes_of, read, write, zeroed};
use bpf_sys::util::possible_cpu_count;

use super::batch::{BatchResult, default_chunk, lookup_all};
use super::element::update_error;
use super::map_data::syscall;
use super::{MapData, MapError};

/// One `T` per possible CPU (index = CPU id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerCpuValues<T> {
    values: Box<[T]>,
}

impl<T: Pod> PerCpuValues<T> {
    /// Wraps one value per possible CPU; `values.len()` must be [`nr_cpus`].
    pub fn new(values: Vec<T>) -> Result<Self, MapError> {
        let cpus = nr_cpus()?;
        if values.len() != cpus {
            return Err(MapError::CpuCount {
                expected: cpus,
                actual: values.len(),
            });
        }
        Ok(PerCpuValues {
            values: values.into_boxed_slice(),
        })
    }

    /// The same value on every possible CPU.
    pub fn splat(value: T) -> Result<Self, MapError> {
        Ok(PerCpuValues {
            values: vec![value; nr_cpus()?].into_boxed_slice(),
        })
    }

    /// Bytes a per-CPU value of `T` occupies in user space: slots rounded up to 8 bytes.
    pub(crate) fn stride() -> usize {
        size_of::<T>().next_multiple_of(8)
    }

    /// Decodes the kernel's layout: `cpus` slots of `stride()` bytes.
    pub(crate) fn from_kernel_bytes(bytes: &[u8]) -> Self {
        let values: Vec<T> = bytes
            .chunks_exact(Self::stride())
            .map(|slot| read::<T>(slot).unwrap_or_else(zeroed))
            .collect();
        PerCpuValues {
            values: values.into_boxed_slice(),
        }
    }

    /// Encodes into the kernel's layout (`buf` is `len() × stride()` bytes, zeroed by the caller).
    pub(crate) fn to_kernel_bytes(&self, buf: &mut [u8]) {
        for (slot, value) in buf.chunks_exact_mut(Self::stride()).zip(self.values.iter()) {
            write(slot, value);
        }
    }

    /// The values, CPU 0 first.
    pub fn iter_values(&self) -> impl Iterator<Item = &T> {
        self.values.iter()
    }

    /// The values as a vector.
    pub fn into_vec(self) -> Vec<T> {
        self.values.into_vec()
    }
}

impl<T> Deref for PerCpuValues<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.values
    }
}

impl<T> DerefMut for PerCpuValues<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.values
    }
}

/// Number of per-CPU slots: highest possible CPU id + 1 (`/sys/devices/system/cpu/possible`).
pub fn nr_cpus() -> Result<usize, MapError> {
    possible_cpu_count().map_err(|source| MapError::Io {
        name: "<per-cpu values>".to_owned(),
        what: "reading the possible CPUs",
        source,
    })
}

/// A zeroed per-CPU buffer for one value of `T`.
pub(crate) fn kernel_buf<T: Pod>() -> Result<Vec<u8>, MapError> {
    Ok(vec![0u8; PerCpuValues::<T>::stride() * nr_cpus()?])
}

/// Every CPU's value at `key` of a per-CPU map; `None` when absent.
pub(crate) fn lookup_per_cpu<K: Pod, V: Pod>(
    data: &MapData,
    key: &K,
    flags: u64,
) -> Result<Option<PerCpuValues<V>>, MapError> {
    let mut buf = kernel_buf::<V>()?;
    match data.map_fd().lookup(bytes_of(key), &mut buf, flags) {
        Ok(true) => Ok(Some(PerCpuValues::from_kernel_bytes(&buf))),
        Ok(false) => Ok(None),
        Err(e) => Err(syscall(data.name(), e)),
    }
}

/// Writes one value per CPU at `key` of a per-CPU map.
pub(crate) fn update_per_cpu<K: Pod, V: Pod>(
    data: &MapData,
    key: &K,
    values: &PerCpuValues<V>,
    flags: u64,
) -> Result<(), MapError> {
    let mut buf = kernel_buf::<V>()?;
    values.to_kernel_bytes(&mut buf);
    data.map_fd()
        .update(bytes_of(key), &buf, flags)
        .map_err(|e| update_error(data.name(), flags, e))
}

/// Keys with their per-CPU values, as a batch lookup returns them.
pub(crate) type PerCpuEntries<K, V> = Vec<(K, PerCpuValues<V>)>;

/// Every entry of a per-CPU map, fetched in batches; `None` when the map type has no batch
/// lookup (the caller walks its keys instead).
pub(crate) fn batch_lookup_per_cpu<K: Pod, V: Pod>(
    data: &MapData,
) -> Result<Option<PerCpuEntries<K, V>>, MapError> {
    let per_entry = data.map_fd().value_buf_size();
    let mut keys = Vec::new();
    let mut values: Vec<u8> = Vec::new();
    let chunk = default_chunk(data);
    match lookup_all(data, per_entry, &mut keys, &mut values, chunk, false)? {
        BatchResult::Done => Ok(Some(
            keys.into_iter()
                .zip(values.chunks_exact(per_entry.max(1)))
                .map(|(k, v)| (k, PerCpuValues::from_kernel_bytes(v)))
                .collect(),
        )),
        BatchResult::Unsupported => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_eight_byte_aligned() {
        assert_eq!(PerCpuValues::<u32>::stride(), 8);
        assert_eq!(PerCpuValues::<[u8; 12]>::stride(), 16);
        assert_eq!(PerCpuValues::<u64>::stride(), 8);
        let values = PerCpuValues {
            values: vec![1u32, 2, 3].into_boxed_slice(),
        };
        let mut buf = vec![0u8; 24];
        values.to_kernel_bytes(&mut buf);
        assert_eq!(&buf[..4], &1u32.to_ne_bytes());
        assert_eq!(&buf[4..8], &[0; 4], "padding stays zero");
        assert_eq!(&buf[8..12], &2u32.to_ne_bytes());
        assert_eq!(PerCpuValues::<u32>::from_kernel_bytes(&buf), values);
    }
}
