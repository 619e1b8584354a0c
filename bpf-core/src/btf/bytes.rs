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
