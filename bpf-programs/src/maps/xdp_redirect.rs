//! [`XdpRedirectMap`]: the XDP redirect maps ([`DevMap`](super::DevMap),
//! [`DevMapHash`](super::DevMapHash), [`CpuMap`](super::CpuMap)). Their values share one
//! layout: a 4-byte target (ifindex or queue size), optionally followed by a program fd
//! (written) or id (read back).

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd};

use bpf_sys::pod::bytes_of;

use super::element::delete;
use super::kind::{XdpRedirectKind, check_key_size, check_kind, check_value_len, create_kind};
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// Encodes `[target, prog fd]` or just `[target]`, as the map's value size says.
fn encode(value_size: u32, first: u32, prog: Option<BorrowedFd<'_>>) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&first.to_ne_bytes());
    if value_size >= 8 {
        let fd = prog.map_or(0, |p| p.as_raw_fd() as u32);
        out[4..].copy_from_slice(&fd.to_ne_bytes());
    }
    out
}

/// Decodes `(target, prog id)`; a zero or absent id is `None`.
fn decode(bytes: &[u8; 8]) -> (u32, Option<u32>) {
    let word = |i: usize| u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let id = word(4);
    (word(0), (id != 0).then_some(id))
}

/// A map of redirect targets for `bpf_redirect_map` from XDP; `Kind`
/// ([`DevMapKind`](super::dev_map::DevMapKind), …) says which kernel map type it accepts, its
/// key and its value type. Used through its aliases.
#[derive(Debug)]
pub struct XdpRedirectMap<T, Kind> {
    inner: T,
    _kind: PhantomData<Kind>,
}

impl<T: Borrow<MapData>, Kind: XdpRedirectKind> XdpRedirectMap<T, Kind> {
    /// Wraps a map after checking its type, key size and value size (4 or 8).
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_kind::<Kind>(data)?;
        check_key_size::<Kind::Key>(data)?;
        if data.value_size() != 4 {
            check_value_len(data, 8)?;
        }
        Ok(XdpRedirectMap {
            inner,
            _kind: PhantomData,
        })
    }

    /// The slot at `key`, `None` if empty.
    pub fn get(&self, key: Kind::Key) -> Result<Option<Kind::Value>, MapError> {
        let data = self.inner.borrow();
        let mut buf = [0u8; 8];
        let len = (data.value_size() as usize).min(8);
        match data.map_fd().lookup(bytes_of(&key), &mut buf[..len], 0) {
            Ok(true) => {
                let (target, prog_id) = decode(&buf);
                Ok(Some(Kind::value(target, prog_id)))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(syscall(data.name(), e)),
        }
    }
}

impl<T: BorrowMut<MapData>, Kind: XdpRedirectKind> XdpRedirectMap<T, Kind> {
    /// Fills the slot at `key` with `target` (the ifindex of a device map, the queue size of a
    /// CPU map); `prog` needs an 8-byte value (a program of the map's type).
    pub fn set(
        &mut self,
        key: Kind::Key,
        target: u32,
        prog: Option<BorrowedFd<'_>>,
        flags: u64,
    ) -> Result<(), MapError> {
        let data = self.inner.borrow();
        let value_size = data.value_size();
        if prog.is_some() && value_size < 8 {
            return Err(MapError::ValueSize {
                name: data.name().to_owned(),
                expected: value_size,
                actual: 8,
            });
        }
        let buf = encode(value_size, target, prog);
        data.map_fd()
            .update(bytes_of(&key), &buf[..(value_size as usize).min(8)], flags)
            .map_err(|e| syscall(data.name(), e))
    }

    /// Empties the slot at `key`.
    pub fn remove(&mut self, key: Kind::Key) -> Result<(), MapError> {
        delete(self.inner.borrow(), &key)
    }
}

impl<Kind: XdpRedirectKind> XdpRedirectMap<MapData, Kind> {
    /// Creates the map from user space with 8-byte values (room for a program).
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        Self::new(create_kind::<Kind>(
            size_of::<Kind::Key>(),
            8,
            max_entries,
            flags,
        )?)
    }
}

map_wrapper!(XdpRedirectMap where Kind: XdpRedirectKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let short = encode(4, 7, None);
        assert_eq!(&short[..4], &7u32.to_ne_bytes());
        let mut with_id = [0u8; 8];
        with_id[..4].copy_from_slice(&3u32.to_ne_bytes());
        with_id[4..].copy_from_slice(&42u32.to_ne_bytes());
        assert_eq!(decode(&with_id), (3, Some(42)));
        assert_eq!(decode(&short), (7, None));
    }
}
