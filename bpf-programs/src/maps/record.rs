//! Typed reads of the records ring buffers and perf buffers hand out.

use bpf_sys::pod::{self, Pod};

/// A record's length is not the length of the type it was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("record is {actual} bytes, {type_name} is {expected}")]
pub struct RecordSizeError {
    /// The type's size (for perf samples: as the kernel pads it).
    pub expected: usize,
    /// The record's length.
    pub actual: usize,
    /// The type asked for.
    pub type_name: &'static str,
}

/// `bytes` as a `T` of exactly `expected` bytes' record.
pub(crate) fn read_exact<T: Pod>(bytes: &[u8], expected: usize) -> Result<T, RecordSizeError> {
    if bytes.len() != expected {
        return Err(size_error::<T>(expected, bytes.len()));
    }
    pod::read(bytes).ok_or_else(|| size_error::<T>(expected, bytes.len()))
}

/// The leading `size_of::<T>()` bytes as a `T`.
pub(crate) fn read_prefix<T: Pod>(bytes: &[u8]) -> Result<T, RecordSizeError> {
    pod::read(bytes).ok_or_else(|| size_error::<T>(size_of::<T>(), bytes.len()))
}

/// `bytes` as `T`s, one after another; the length must be a multiple of `T`'s.
pub(crate) fn read_slice<T: Pod>(bytes: &[u8]) -> Result<Vec<T>, RecordSizeError> {
    let size = size_of::<T>();
    if size == 0 || !bytes.len().is_multiple_of(size) {
        return Err(size_error::<T>(
            bytes.len().next_multiple_of(size.max(1)),
            bytes.len(),
        ));
    }
    let mut out = pod::zeroed_vec::<T>(bytes.len() / size);
    pod::slice_bytes_mut(&mut out).copy_from_slice(bytes);
    Ok(out)
}

fn size_error<T>(expected: usize, actual: usize) -> RecordSizeError {
    RecordSizeError {
        expected,
        actual,
        type_name: std::any::type_name::<T>(),
    }
}

/// The length the kernel gives a `len`-byte `bpf_perf_event_output` sample: the raw data and
/// its `u32` length are padded together to 8 bytes.
pub(crate) fn perf_padded_len(len: usize) -> usize {
    (len + 4).next_multiple_of(8) - 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_reads_refuse_longer_and_shorter_records() {
        let bytes = 7u64.to_ne_bytes();
        assert_eq!(read_exact::<u64>(&bytes, 8), Ok(7));
        let long = [0u8; 12];
        let err = read_exact::<u64>(&long, 8).unwrap_err();
        assert_eq!((err.expected, err.actual), (8, 12));
        assert!(
            err.to_string().contains("record is 12 bytes, u64 is 8"),
            "{err}"
        );
        assert!(read_exact::<u64>(&bytes[..4], 8).is_err());
        assert_eq!(read_prefix::<u32>(&long), Ok(0));
        assert!(read_prefix::<u64>(&bytes[..4]).is_err());
        assert_eq!(read_slice::<u32>(&long).unwrap().len(), 3);
        assert!(read_slice::<u64>(&long).is_err());
    }

    #[test]
    fn perf_samples_pad_to_four_less_than_eight() {
        assert_eq!(perf_padded_len(8), 12);
        assert_eq!(perf_padded_len(4), 4);
        assert_eq!(perf_padded_len(64), 68);
        assert_eq!(perf_padded_len(1), 4);
        assert_eq!(perf_padded_len(1024), 1028);
    }
}
