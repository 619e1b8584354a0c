//! Storage of a BTF blob's bytes: owned, or a file's bytes shared without copying.

use std::sync::Arc;

use bpf_sys::file_map::FileBytes;

/// The bytes a [`Btf`](super::Btf) indexes; a file's bytes are copied only when first modified.
#[derive(Clone, Default)]
pub(crate) struct BtfBytes {
    owned: Vec<u8>,
    /// When set, the bytes are this file's and `owned` is unused.
    file: Option<Arc<FileBytes>>,
}

impl BtfBytes {
    pub(crate) fn file(file: FileBytes) -> BtfBytes {
        BtfBytes {
            owned: Vec::new(),
            file: Some(Arc::new(file)),
        }
    }

    /// Mutable owned bytes, copying a file's bytes the first time.
    pub(crate) fn to_mut(&mut self) -> &mut Vec<u8> {
        if let Some(file) = self.file.take() {
            self.owned = file.as_slice().to_vec();
        }
        &mut self.owned
    }
}

impl From<Vec<u8>> for BtfBytes {
    fn from(owned: Vec<u8>) -> BtfBytes {
        BtfBytes { owned, file: None }
    }
}

impl std::ops::Deref for BtfBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.file {
            Some(file) => file.as_slice(),
            None => &self.owned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_copy_file_bytes_and_leave_clones_alone() {
        let path = std::env::temp_dir().join(format!("bpf-core-btf-bytes-{}", std::process::id()));
        std::fs::write(&path, b"abcd").unwrap();
        let shared = BtfBytes::file(FileBytes::read(&path).unwrap());
        std::fs::remove_file(&path).unwrap();
        let mut written = shared.clone();
        written.to_mut()[0] = b'x';
        written.to_mut().push(b'e');
        assert_eq!(&*written, b"xbcde");
        assert_eq!(&*shared, b"abcd");
    }
}
