//! Element calls shared by the typed wrappers (lookup, update, delete by key) and the index
//! check of array-like maps.

use std::os::fd::BorrowedFd;

use bpf_sys::SyscallError;
use bpf_sys::pod::{Pod, bytes_of, bytes_of_mut, zeroed};

use super::flags::{BPF_EXIST, BPF_NOEXIST};
use super::map_data::syscall;
use super::{MapData, MapError};

/// Fails unless `index` is below `max_entries`.
pub(crate) fn check_index(data: &MapData, index: u32) -> Result<(), MapError> {
    if index < data.max_entries() {
        Ok(())
    } else {
        Err(MapError::OutOfBounds {
            name: data.name().to_owned(),
            index,
            max_entries: data.max_entries(),
        })
    }
}

/// Looks `key` up; `None` when absent.
#[inline(always)]
pub(crate) fn lookup<K: Pod, V: Pod>(
    data: &MapData,
    key: &K,
    flags: u64,
) -> Result<Option<V>, MapError> {
    let mut value = zeroed::<V>();
    match data
        .map_fd()
        .lookup(bytes_of(key), bytes_of_mut(&mut value), flags)
    {
        Ok(true) => Ok(Some(value)),
        Ok(false) => Ok(None),
        Err(e) => Err(syscall(data.name(), e)),
    }
}

/// Writes `key` → `value` with `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`/`BPF_F_LOCK` flags.
#[inline]
pub(crate) fn update<K: Pod, V: Pod>(
    data: &MapData,
    key: &K,
    value: &V,
    flags: u64,
) -> Result<(), MapError> {
    data.map_fd()
        .update(bytes_of(key), bytes_of(value), flags)
        .map_err(|e| update_error(data.name(), flags, e))
}

/// An update failure, told apart where the flags explain it.
pub(crate) fn update_error(name: &str, flags: u64, source: SyscallError) -> MapError {
    let name = name.to_owned();
    match (flags & 3, source.errno()) {
        (BPF_EXIST, Some(libc::ENOENT)) => MapError::NoKeyToUpdate { name, source },
        (BPF_NOEXIST, Some(libc::EEXIST)) => MapError::KeyExists { name, source },
        _ => MapError::Syscall { name, source },
    }
}

/// Deletes `key`; a missing key is [`MapError::KeyNotFound`].
#[inline]
pub(crate) fn delete<K: Pod>(data: &MapData, key: &K) -> Result<(), MapError> {
    delete_bytes(data, bytes_of(key))
}

pub(crate) fn delete_bytes(data: &MapData, key: &[u8]) -> Result<(), MapError> {
    match data.map_fd().delete(key) {
        Ok(()) => Ok(()),
        Err(e) if e.errno() == Some(libc::ENOENT) => Err(MapError::KeyNotFound {
            name: data.name().to_owned(),
        }),
        Err(e) => Err(syscall(data.name(), e)),
    }
}

/// Looks `key` up and deletes it in one step; `None` when absent.
pub(crate) fn lookup_and_delete<K: Pod, V: Pod>(
    data: &MapData,
    key: &K,
    flags: u64,
) -> Result<Option<V>, MapError> {
    let mut value = zeroed::<V>();
    match data
        .map_fd()
        .lookup_and_delete(bytes_of(key), bytes_of_mut(&mut value), flags)
    {
        Ok(true) => Ok(Some(value)),
        Ok(false) => Ok(None),
        Err(e) => Err(syscall(data.name(), e)),
    }
}

/// Writes the raw fd number of `fd` as a 4-byte value at `key`.
pub(crate) fn update_fd<K: Pod>(
    data: &MapData,
    key: &K,
    fd: BorrowedFd<'_>,
    flags: u64,
) -> Result<(), MapError> {
    use std::os::fd::AsRawFd;
    let value = fd.as_raw_fd() as u32;
    update(data, key, &value, flags)
}

/// Untyped element calls, for callers that know the layout only at run time.
impl MapData {
    /// The value at `key` as bytes (all CPUs' slots for per-CPU maps); `None` when absent.
    pub fn lookup_bytes(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        let mut value = vec![0u8; self.value_buf_size()];
        match self.fd.lookup(key, &mut value, 0) {
            Ok(true) => Ok(Some(value)),
            Ok(false) => Ok(None),
            Err(e) => Err(syscall(&self.name, e)),
        }
    }

    /// Writes `key` → `value` as bytes; `flags` is `BPF_ANY`, `BPF_NOEXIST` or `BPF_EXIST`.
    pub fn update_bytes(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.fd
            .update(key, value, flags)
            .map_err(|e| syscall(&self.name, e))
    }

    /// Deletes `key`; `false` when it was not there.
    pub fn delete_bytes(&self, key: &[u8]) -> Result<bool, MapError> {
        match self.fd.delete(key) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(syscall(&self.name, e)),
        }
    }

    /// The keys as bytes, walked with `BPF_MAP_GET_NEXT_KEY` (an array's indexes included).
    pub fn keys_bytes(&self) -> impl Iterator<Item = Result<Vec<u8>, MapError>> + '_ {
        let mut previous: Option<Vec<u8>> = None;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut next = vec![0u8; self.key_size() as usize];
            match self.fd.next_key(previous.as_deref(), &mut next) {
                Ok(true) => {
                    previous = Some(next.clone());
                    Some(Ok(next))
                }
                Ok(false) => {
                    done = true;
                    None
                }
                Err(e) => {
                    done = true;
                    Some(Err(syscall(&self.name, e)))
                }
            }
        })
    }

    /// Writes `fd` (a program or map fd) at `index` of a prog array or array-of-maps.
    pub fn set_fd_slot(&self, index: u32, fd: BorrowedFd<'_>) -> Result<(), MapError> {
        use std::os::fd::AsRawFd;
        let value = fd.as_raw_fd() as u32;
        self.fd
            .update(&index.to_ne_bytes(), &value.to_ne_bytes(), 0)
            .map_err(|e| syscall(&self.name, e))
    }
}
