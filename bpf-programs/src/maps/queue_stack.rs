//! [`QueueOrStack`]: keyless containers behind [`Queue`](super::Queue) and
//! [`Stack`](super::Stack). Push is an update without a key, pop a lookup-and-delete, peek a
//! lookup.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;

use bpf_sys::pod::Pod;

use super::element::{lookup, lookup_and_delete, update};
use super::kind::{QueueOrStackKind, check_key_len, check_kind, check_value_size, create_kind};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A FIFO queue or LIFO stack of `V`; `Kind` ([`QueueKind`](super::queue::QueueKind),
/// [`StackKind`](super::stack::StackKind)) says which. Used through its aliases.
#[derive(Debug)]
pub struct QueueOrStack<T, V, Kind> {
    inner: T,
    _v: PhantomData<(V, Kind)>,
}

impl<T: Borrow<MapData>, V: Pod, Kind: QueueOrStackKind> QueueOrStack<T, V, Kind> {
    /// Wraps a map after checking its type and value size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_kind::<Kind>(data)?;
        check_key_len(data, 0)?;
        check_value_size::<V>(data)?;
        Ok(QueueOrStack {
            inner,
            _v: PhantomData,
        })
    }

    /// Capacity (`max_entries`).
    pub fn capacity(&self) -> u32 {
        self.inner.borrow().max_entries()
    }

    /// The next element without removing it, `None` when empty.
    pub fn peek(&self) -> Result<Option<V>, MapError> {
        lookup(self.inner.borrow(), &[0u8; 0], 0)
    }
}

impl<T: BorrowMut<MapData>, V: Pod, Kind: QueueOrStackKind> QueueOrStack<T, V, Kind> {
    /// Adds `value`; when full, `BPF_EXIST` makes room by dropping the oldest element.
    pub fn push(&mut self, value: impl Borrow<V>, flags: u64) -> Result<(), MapError> {
        update(self.inner.borrow(), &[0u8; 0], value.borrow(), flags)
    }

    /// Removes and returns the next element, `None` when empty.
    pub fn pop(&mut self) -> Result<Option<V>, MapError> {
        lookup_and_delete(self.inner.borrow(), &[0u8; 0], 0)
    }
}

impl<V: Pod, Kind: QueueOrStackKind> QueueOrStack<MapData, V, Kind> {
    /// Creates the map from user space.
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        Self::new(create_kind::<Kind>(0, size_of::<V>(), max_entries, flags)?)
    }
}

map_wrapper!(QueueOrStack<V> where Kind: QueueOrStackKind);
