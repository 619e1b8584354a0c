//! [`FdArray`]: arrays whose values are fds given by user space (programs, sockets, cgroups,
//! AF_XDP sockets), behind [`ProgramArray`](super::ProgramArray),
//! [`CgroupArray`](super::CgroupArray), [`SockMap`](super::SockMap), [`XskMap`](super::XskMap)
//! and [`ReusePortSockArray`](super::ReusePortSockArray).

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;
use std::os::fd::BorrowedFd;

use super::element::{check_index, delete, update_fd};
use super::kind::{FdArrayKind, check_key_size, check_kind, create_kind};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// An index → fd array; `Kind`
/// ([`ProgramArrayKind`](super::program_array::ProgramArrayKind), …) says
/// which kernel map type it accepts and what the fds are. Used through its aliases.
#[derive(Debug)]
pub struct FdArray<T, Kind> {
    inner: T,
    _kind: PhantomData<Kind>,
}

impl<T: Borrow<MapData>, Kind: FdArrayKind> FdArray<T, Kind> {
    /// Wraps a map after checking its type and key size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_kind::<Kind>(data)?;
        check_key_size::<u32>(data)?;
        Ok(FdArray {
            inner,
            _kind: PhantomData,
        })
    }

    /// Number of slots (`max_entries`).
    pub fn len(&self) -> u32 {
        self.inner.borrow().max_entries()
    }

    /// True for a zero-sized array.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: BorrowMut<MapData>, Kind: FdArrayKind> FdArray<T, Kind> {
    /// Stores `fd` (of the object the map holds: program, cgroup directory, socket) at `index`.
    pub fn set(&mut self, index: u32, fd: BorrowedFd<'_>, flags: u64) -> Result<(), MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        update_fd(data, &index, fd, flags)
    }

    /// Empties slot `index`.
    pub fn clear_index(&mut self, index: u32) -> Result<(), MapError> {
        let data = self.inner.borrow();
        check_index(data, index)?;
        delete(data, &index)
    }
}

impl<Kind: FdArrayKind> FdArray<MapData, Kind> {
    /// Creates the map from user space (4-byte fd values).
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        Self::new(create_kind::<Kind>(4, 4, max_entries, flags)?)
    }
}

map_wrapper!(FdArray where Kind: FdArrayKind);
