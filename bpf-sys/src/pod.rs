//! Plain-old-data: types whose bytes can be viewed and filled freely, for map keys and values.

use std::mem::MaybeUninit;

/// A type any byte pattern of its size is a valid value of, and whose bytes are all initialised.
///
/// # Safety
///
/// Implement only for `#[repr(C)]` (or `#[repr(transparent)]`) types made of `Pod` fields with
/// no padding bytes (add explicit padding fields), no references, pointers to owned data,
/// `bool`, `char` or enums.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod_scalars {
    ($($t:ty),*) => {
        // SAFETY: integers and floats have no padding and every bit pattern is a valid value.
        $(unsafe impl Pod for $t {})*
    };
}

pod_scalars!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

// SAFETY: an array of padding-free, any-bit-pattern elements has neither padding nor invalid values.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// The bytes of `value`.
pub fn bytes_of<T: Pod>(value: &T) -> &[u8] {
    // SAFETY: T is Pod: all size_of::<T>() bytes are initialised; u8 has alignment 1.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) }
}

/// The bytes of `value`, writable: any bytes written form a valid `T`.
pub fn bytes_of_mut<T: Pod>(value: &mut T) -> &mut [u8] {
    // SAFETY: T is Pod: initialised and valid for any byte pattern; the borrow is exclusive.
    unsafe { std::slice::from_raw_parts_mut((value as *mut T).cast::<u8>(), size_of::<T>()) }
}

/// The bytes of a slice of `T`.
pub fn slice_bytes<T: Pod>(values: &[T]) -> &[u8] {
    // SAFETY: as for bytes_of; the slice's size in bytes cannot overflow isize.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), size_of_val(values)) }
}

/// The bytes of a slice of `T`, writable.
pub fn slice_bytes_mut<T: Pod>(values: &mut [T]) -> &mut [u8] {
    // SAFETY: as for bytes_of_mut; the slice's size in bytes cannot overflow isize.
    unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<u8>(), size_of_val(values)) }
}

/// An all-zero `T`.
pub fn zeroed<T: Pod>() -> T {
    // SAFETY: the all-zero pattern is valid for a Pod type.
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

/// A `T` read from the start of `bytes` (any alignment), or `None` if `bytes` is too short.
pub fn read<T: Pod>(bytes: &[u8]) -> Option<T> {
    let src = bytes.get(..size_of::<T>())?;
    let mut value = zeroed::<T>();
    bytes_of_mut(&mut value).copy_from_slice(src);
    Some(value)
}

/// Writes `value` at the start of `bytes`; false if `bytes` is too short.
pub fn write<T: Pod>(bytes: &mut [u8], value: &T) -> bool {
    match bytes.get_mut(..size_of::<T>()) {
        Some(dst) => {
            dst.copy_from_slice(bytes_of(value));
            true
        }
        None => false,
    }
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
        let arr = [1u16, 2, 3];
        assert_eq!(slice_bytes(&arr).len(), 6);
        let mut z = zeroed::<[u8; 3]>();
        bytes_of_mut(&mut z)[2] = 9;
        assert_eq!(z, [0, 0, 9]);
    }
}
