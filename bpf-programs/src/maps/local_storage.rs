//! [`FdKeyedStorage`]: local storage keyed by an fd of the owning object (socket, task, inode,
//! cgroup), behind [`SkStorage`](super::SkStorage), [`TaskStorage`](super::TaskStorage),
//! [`InodeStorage`](super::InodeStorage) and [`CgrpStorage`](super::CgrpStorage). The kernel
//! needs BTF for these maps, so they come from objects, not from user space.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd};

use bpf_sys::pod::Pod;

use super::element::{delete, lookup, update};
use super::kind::{FdKeyedStorageKind, check_key_size, check_kind, check_value_size};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A `V` per owning object, keyed from user space by the owner's fd; `Kind`
/// ([`SkStorageKind`](super::sk_storage::SkStorageKind), …) says which kernel map type it
/// accepts.
/// Used through its aliases.
#[derive(Debug)]
pub struct FdKeyedStorage<T, V, Kind> {
    inner: T,
    _v: PhantomData<(V, Kind)>,
}

impl<T: Borrow<MapData>, V: Pod, Kind: FdKeyedStorageKind> FdKeyedStorage<T, V, Kind> {
    /// Wraps a map after checking its type and value size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_kind::<Kind>(data)?;
        check_key_size::<u32>(data)?;
        check_value_size::<V>(data)?;
        Ok(FdKeyedStorage {
            inner,
            _v: PhantomData,
        })
    }

    /// The value stored for the owner `fd` (socket, task's pidfd, file of the inode, cgroup
    /// directory), `None` if none.
    pub fn get(&self, fd: BorrowedFd<'_>, flags: u64) -> Result<Option<V>, MapError> {
        lookup(self.inner.borrow(), &fd.as_raw_fd(), flags)
    }
}

impl<T: BorrowMut<MapData>, V: Pod, Kind: FdKeyedStorageKind> FdKeyedStorage<T, V, Kind> {
    /// Stores `value` for the owner `fd`.
    pub fn insert(
        &mut self,
        fd: BorrowedFd<'_>,
        value: impl Borrow<V>,
        flags: u64,
    ) -> Result<(), MapError> {
        update(self.inner.borrow(), &fd.as_raw_fd(), value.borrow(), flags)
    }

    /// Removes the value stored for the owner `fd`.
    pub fn remove(&mut self, fd: BorrowedFd<'_>) -> Result<(), MapError> {
        delete(self.inner.borrow(), &fd.as_raw_fd())
    }
}

map_wrapper!(FdKeyedStorage<V> where Kind: FdKeyedStorageKind);
