//! Value layout shared by the XDP redirect maps (devmap, devmap hash, cpumap): a 4-byte
//! first field, optionally followed by a program fd (written) or id (read back).

use std::os::fd::{AsRawFd, BorrowedFd};

/// Encodes `[first, prog fd]` or just `[first]`, as the map's value size says.
pub(crate) fn encode(value_size: u32, first: u32, prog: Option<BorrowedFd<'_>>) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&first.to_ne_bytes());
    if value_size >= 8 {
        let fd = prog.map_or(0, |p| p.as_raw_fd() as u32);
        out[4..].copy_from_slice(&fd.to_ne_bytes());
    }
    out
}

/// Decodes `(first, prog id)`; a zero or absent id is `None`.
pub(crate) fn decode(bytes: &[u8; 8]) -> (u32, Option<u32>) {
    let word = |i: usize| u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let id = word(4);
    (word(0), (id != 0).then_some(id))
}

/// Defines an XDP redirect map wrapper with key `$key`, first value field `$first`.
macro_rules! xdp_redirect_map {
    ($(#[$doc:meta])* $name:ident, $ty:ident, $key:ty, $first:ident, $value:ident) => {
        /// A slot of the map: the target and the program run on redirected frames.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $value {
            #[doc = concat!("`", stringify!($first), "` of the slot.")]
            pub $first: u32,
            /// Id of the program attached to the slot, if any.
            pub prog_id: Option<u32>,
        }

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T> {
            inner: T,
        }

        impl<T: std::borrow::Borrow<$crate::maps::MapData>> $name<T> {
            /// Wraps a map after checking its type, key size and value size (4 or 8).
            pub fn new(inner: T) -> Result<Self, $crate::maps::MapError> {
                let data = inner.borrow();
                $crate::maps::kind::check_type(
                    data,
                    &[bpf_sys::generated::bpf_map_type::$ty],
                    stringify!($ty),
                )?;
                $crate::maps::kind::check_key_size::<$key>(data)?;
                if data.value_size() != 4 {
                    $crate::maps::kind::check_value_len(data, 8)?;
                }
                Ok($name { inner })
            }

            /// The slot at `key`, `None` if empty.
            pub fn get(&self, key: $key) -> Result<Option<$value>, $crate::maps::MapError> {
                let data = self.inner.borrow();
                let mut buf = [0u8; 8];
                let len = data.value_size() as usize;
                match data.map_fd().lookup(
                    bpf_sys::pod::bytes_of(&key),
                    &mut buf[..len.min(8)],
                    0,
                ) {
                    Ok(true) => {
                        let (first, prog_id) = $crate::maps::xdp_redirect::decode(&buf);
                        Ok(Some($value { $first: first, prog_id }))
                    }
                    Ok(false) => Ok(None),
                    Err(e) => Err($crate::maps::map_data::syscall(data.name(), e)),
                }
            }
        }

        impl<T: std::borrow::BorrowMut<$crate::maps::MapData>> $name<T> {
            /// Fills the slot at `key`; `prog` needs an 8-byte value (a program of the map's type).
            pub fn set(
                &mut self,
                key: $key,
                $first: u32,
                prog: Option<std::os::fd::BorrowedFd<'_>>,
                flags: u64,
            ) -> Result<(), $crate::maps::MapError> {
                let data = self.inner.borrow();
                let value_size = data.value_size();
                if prog.is_some() && value_size < 8 {
                    return Err($crate::maps::MapError::ValueSize {
                        name: data.name().to_owned(),
                        expected: value_size,
                        actual: 8,
                    });
                }
                let buf = $crate::maps::xdp_redirect::encode(value_size, $first, prog);
                data.map_fd()
                    .update(
                        bpf_sys::pod::bytes_of(&key),
                        &buf[..(value_size as usize).min(8)],
                        flags,
                    )
                    .map_err(|e| $crate::maps::map_data::syscall(data.name(), e))
            }

            /// Empties the slot at `key`.
            pub fn remove(&mut self, key: $key) -> Result<(), $crate::maps::MapError> {
                $crate::maps::element::delete(self.inner.borrow(), &key)
            }
        }

        impl $name<$crate::maps::MapData> {
            /// Creates the map from user space with 8-byte values (room for a program).
            pub fn create(max_entries: u32, flags: u32) -> Result<Self, $crate::maps::MapError> {
                let def = bpf_core::obj::MapDef {
                    map_type: bpf_sys::generated::bpf_map_type::$ty,
                    key_size: size_of::<$key>() as u32,
                    value_size: 8,
                    max_entries,
                    map_flags: flags,
                    ..Default::default()
                };
                Self::new($crate::maps::MapData::create_raw(&def, stringify!($name))?)
            }
        }

        $crate::maps::wrapper::map_wrapper!($name);
    };
}

pub(crate) use xdp_redirect_map;

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
