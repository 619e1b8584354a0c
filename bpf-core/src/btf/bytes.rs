//! Storage of a BTF blob's bytes: owned, or shared bytes (a file mapped by the caller) kept
//! without copying.

use std::sync::Arc;

/// Bytes a [`Btf`](super::Btf) can index without copying them, e.g. a memory-mapped
/// `/sys/kernel/btf/vmlinux` (the caller maps it: bpf-core reads no files).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The bytes a [`Btf`](super::Btf) indexes; shared bytes are copied only when first modified.
#[derive(Clone, Default)]
pub(crate) struct BtfBytes {
    owned: Vec<u8>,
    /// When set, the bytes are these and `owned` is unused.
    shared: Option<SharedBytes>,
}

impl BtfBytes {
    pub(crate) fn shared(bytes: SharedBytes) -> BtfBytes {
        BtfBytes {
            owned: Vec::new(),
            shared: Some(bytes),
        }
    }

    /// Mutable owned bytes, copying shared bytes the first time.
    pub(crate) fn to_mut(&mut self) -> &mut Vec<u8> {
        if let Some(shared) = self.shared.take() {
            self.owned = (*shared).as_ref().to_vec();
        }
        &mut self.owned
    }
}

impl From<Vec<u8>> for BtfBytes {
    fn from(owned: Vec<u8>) -> BtfBytes {
        BtfBytes {
            owned,
            shared: None,
        }
    }
}

impl std::ops::Deref for BtfBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.shared {
            Some(shared) => (**shared).as_ref(),
            None => &self.owned,
        }
    }
}

/// The little-endian u32 at `bytes[at..]`, 0 past the end (callers checked the lengths).
#[inline]
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Writes `value` little-endian at `bytes[at..]`, nothing past the end.
#[inline]
pub(crate) fn write_u32(bytes: &mut [u8], at: usize, value: u32) {
    if let Some(b) = bytes.get_mut(at..at + 4) {
        b.copy_from_slice(&value.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_copy_shared_bytes_and_leave_clones_alone() {
        let shared = BtfBytes::shared(Arc::new(b"abcd".to_vec()));
        let mut written = shared.clone();
        written.to_mut()[0] = b'x';
        written.to_mut().push(b'e');
        assert_eq!(&*written, b"xbcde");
        assert_eq!(&*shared, b"abcd");
    }
}
