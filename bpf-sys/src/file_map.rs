//! Read-only views of whole files, memory-mapped where the file allows it (e.g.
//! `/sys/kernel/btf/vmlinux`) so large blobs are parsed without copying them.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::ptr::NonNull;

/// A private, read-only mapping of a whole regular file, unmapped on drop.
///
/// The bytes are those of the file when mapped; like any file mapping, the file must not be
/// truncated or rewritten while mapped (sysfs BTF never is).
#[derive(Debug)]
pub struct MappedFile {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only memory owned by this value; nothing writes through it.
unsafe impl Send for MappedFile {}
// SAFETY: shared access only ever reads.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Opens and maps `path`; fails if it is not a regular file or refuses `mmap`.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<MappedFile> {
        let file = File::open(path)?;
        let len = file_len(&file)?;
        Self::map(&file, len)
    }

    /// Maps the first `len` bytes of `file` (its whole size, as `fstat` reports it).
    pub fn map(file: &File, len: usize) -> std::io::Result<MappedFile> {
        if len == 0 {
            return Ok(MappedFile {
                ptr: NonNull::dangling(),
                len: 0,
            });
        }
        // SAFETY: a fresh private read-only mapping placed by the kernel; it aliases no Rust object.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EFAULT))?;
        Ok(MappedFile { ptr, len })
    }

    /// The file's bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr..ptr+len is a live read-only mapping (or a dangling pointer with len 0)
        // owned by self, so it outlives the borrow and nothing mutates it.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: ptr/len are exactly the mapping created in `map`, and no borrow of it outlives self.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A whole file's bytes: mapped when the file supports it, read into memory otherwise.
#[derive(Debug)]
pub enum FileBytes {
    /// Memory-mapped, no copy made.
    Mapped(MappedFile),
    /// Read into memory (pseudo-files without `mmap` or without a truthful size).
    Owned(Vec<u8>),
}

impl FileBytes {
    /// Maps `path` if possible, falling back to reading it.
    pub fn read(path: impl AsRef<Path>) -> std::io::Result<FileBytes> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        // Pseudo-files often report size 0 (or a page) whatever they hold: read those.
        if meta.is_file()
            && meta.len() > 0
            && let Ok(len) = usize::try_from(meta.len())
            && let Ok(mapped) = MappedFile::map(&file, len)
            // A file longer than its reported size would be cut short by the mapping.
            && file.read_at(&mut [0u8; 1], meta.len())? == 0
        {
            return Ok(FileBytes::Mapped(mapped));
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        Ok(FileBytes::Owned(data))
    }

    /// The file's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m.as_slice(),
            FileBytes::Owned(v) => v,
        }
    }

    /// True if the bytes are a mapping rather than a copy.
    pub fn is_mapped(&self) -> bool {
        matches!(self, FileBytes::Mapped(_))
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

fn file_len(file: &File) -> std::io::Result<usize> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::from_raw_os_error(libc::ENODEV));
    }
    usize::try_from(meta.len()).map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("bpf-sys-file-map-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn mapped_bytes_equal_read_bytes() {
        let contents: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let path = temp_file("data", &contents);
        let mapped = MappedFile::open(&path).unwrap();
        assert_eq!(mapped.as_slice(), std::fs::read(&path).unwrap().as_slice());
        let bytes = FileBytes::read(&path).unwrap();
        assert!(bytes.is_mapped());
        assert_eq!(bytes.as_slice(), contents.as_slice());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn empty_file_is_an_empty_slice() {
        let path = temp_file("empty", b"");
        let mapped = MappedFile::open(&path).unwrap();
        assert!(mapped.is_empty());
        assert_eq!(mapped.as_slice(), b"");
        assert_eq!(FileBytes::read(&path).unwrap().as_slice(), b"");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn vmlinux_btf_maps_and_matches_read() {
        let path = "/sys/kernel/btf/vmlinux";
        if !Path::new(path).exists() {
            println!("SKIPPED file_map::tests::vmlinux_btf_maps_and_matches_read: no {path}");
            return;
        }
        let bytes = FileBytes::read(path).unwrap();
        assert_eq!(bytes.as_slice(), std::fs::read(path).unwrap().as_slice());
        // Whether the kernel maps this file (Linux 6.15+), asked with a bare mmap(2).
        let file = std::fs::File::open(path).unwrap();
        // SAFETY: a fresh read-only private mapping of an open file, unmapped right after.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            println!(
                "SKIPPED file_map::tests::vmlinux_btf_maps_and_matches_read: mmap(2) of {path} \
                 fails: {}",
                std::io::Error::last_os_error()
            );
            return;
        }
        // SAFETY: unmapping exactly what mmap returned above.
        unsafe { libc::munmap(raw, 4096) };
        assert!(
            bytes.is_mapped(),
            "the kernel maps {path}, FileBytes did not"
        );
    }

    #[test]
    fn pseudo_file_without_size_falls_back_to_read() {
        // procfs reports size 0 for files that hold bytes.
        let bytes = FileBytes::read("/proc/self/status").unwrap();
        assert!(!bytes.is_mapped());
        assert!(bytes.as_slice().starts_with(b"Name:"));
    }

    #[test]
    fn directory_is_not_mapped() {
        assert!(MappedFile::open(std::env::temp_dir()).is_err());
    }
}
