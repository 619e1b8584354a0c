//! Plain-old-data: types whose bytes can be viewed and filled freely, for map keys and values.
//!
//! [`Pod`] is zerocopy's layout guarantee under one name: every type deriving (or implementing)
//! `FromBytes + IntoBytes + Immutable` is `Pod`, so user types need a derive, not an `unsafe
//! impl`, and the derive refuses a type with padding or invalid bit patterns at compile time.

use zerocopy::{FromBytes, Immutable, IntoBytes};

/// A type any byte pattern of its size is a valid value of, and whose bytes are all initialised:
/// implemented for every `Copy` type with zerocopy's `FromBytes + IntoBytes + Immutable`.
///
/// ```
/// use zerocopy::{FromBytes, Immutable, IntoBytes};
///
/// #[derive(Clone, Copy, FromBytes, IntoBytes, Immutable)]
/// #[repr(C)]
/// struct Key {
///     pid: u32,
///     cpu: u32,
/// }
///
/// fn takes_pod<T: bpf_sys::pod::Pod>() {}
/// takes_pod::<Key>();
/// ```
pub trait Pod: FromBytes + IntoBytes + Immutable + Copy + 'static {}

impl<T: FromBytes + IntoBytes + Immutable + Copy + 'static> Pod for T {}

/// The bytes of `value`.
pub fn bytes_of<T: Pod>(value: &T) -> &[u8] {
    value.as_bytes()
}

/// The bytes of `value`, writable: any bytes written form a valid `T`.
pub fn bytes_of_mut<T: Pod>(value: &mut T) -> &mut [u8] {
    value.as_mut_bytes()
}

/// The bytes of a slice of `T`.
pub fn slice_bytes<T: Pod>(values: &[T]) -> &[u8] {
    values.as_bytes()
}

/// The bytes of a slice of `T`, writable.
pub fn slice_bytes_mut<T: Pod>(values: &mut [T]) -> &mut [u8] {
    values.as_mut_bytes()
}

/// An all-zero `T`.
pub fn zeroed<T: Pod>() -> T {
    T::new_zeroed()
}

/// A `T` read from the start of `bytes` (any alignment), or `None` if `bytes` is too short.
pub fn read<T: Pod>(bytes: &[u8]) -> Option<T> {
    T::read_from_prefix(bytes).ok().map(|(value, _)| value)
}

/// Writes `value` at the start of `bytes`; false if `bytes` is too short.
pub fn write<T: Pod>(bytes: &mut [u8], value: &T) -> bool {
    value.write_to_prefix(bytes).is_ok()
}

/// A vector of `len` zeroed `T`s.
pub fn zeroed_vec<T: Pod>(len: usize) -> Vec<T> {
    vec![zeroed::<T>(); len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let v: u32 = 0x0102_0304;
        assert_eq!(bytes_of(&v), &v.to_ne_bytes());
        assert_eq!(read::<u32>(&v.to_ne_bytes()), Some(v));
        assert_eq!(read::<u64>(&[0u8; 4]), None);
        let mut buf = [0u8; 9];
        assert!(write(&mut buf[1..], &7u64));
        assert_eq!(read::<u64>(&buf[1..]), Some(7));
        assert!(!write(&mut buf[..7], &7u64));
        let arr = [1u16, 2, 3];
        assert_eq!(slice_bytes(&arr).len(), 6);
        let mut z = zeroed::<[u8; 3]>();
        bytes_of_mut(&mut z)[2] = 9;
        assert_eq!(z, [0, 0, 9]);
    }

    #[test]
    fn derived_types_are_pod() {
        #[derive(Clone, Copy, Debug, PartialEq, FromBytes, IntoBytes, Immutable)]
        #[repr(C)]
        struct Event {
            pid: u32,
            flags: u16,
            pad: [u8; 2],
            bytes: u64,
        }
        let event = Event {
            pid: 1,
            flags: 2,
            pad: [0; 2],
            bytes: 3,
        };
        assert_eq!(bytes_of(&event).len(), 16);
        assert_eq!(read::<Event>(bytes_of(&event)), Some(event));
    }
}
