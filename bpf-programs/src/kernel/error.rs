//! [`KernelFactError`]: a fact about the running kernel that could not be read.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpf_core::btf::BtfError;

/// A fact about the running kernel could not be read. Cloneable (the causes are shared), so a
/// failure cached for the process reaches every caller with its path and errno intact.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KernelFactError {
    /// A file of the running system could not be read.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why reading it failed.
        #[source]
        source: Arc<io::Error>,
    },
    /// A BTF file could not be parsed.
    #[error("parsing the BTF of {}", path.display())]
    Btf {
        /// The file.
        path: PathBuf,
        /// Why parsing it failed.
        #[source]
        source: Arc<BtfError>,
    },
    /// A kernel module has split BTF but no BTF object the kernel lists.
    #[error("no loaded BTF object for kernel module `{module}`")]
    NoModuleBtf {
        /// The module.
        module: String,
    },
    /// More module BTF objects than a load's `fd_array` can index.
    #[error("too many kernel module BTF objects for one program ({count})")]
    TooManyModuleBtfs {
        /// How many were needed.
        count: usize,
    },
}

impl KernelFactError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: io::Error) -> KernelFactError {
        KernelFactError::Read {
            path: path.into(),
            source: Arc::new(source),
        }
    }

    /// The file involved, if the fact is read from one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            KernelFactError::Read { path, .. } | KernelFactError::Btf { path, .. } => Some(path),
            KernelFactError::NoModuleBtf { .. } | KernelFactError::TooManyModuleBtfs { .. } => None,
        }
    }

    /// The I/O failure, if reading a file failed (its `raw_os_error()` is the errno).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            KernelFactError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_read_failure_keeps_path_and_errno_without_repeating_them() {
        let error =
            KernelFactError::read("/proc/kallsyms", io::Error::from_raw_os_error(libc::EACCES));
        let cached = error.clone();
        assert_eq!(cached.path(), Some(Path::new("/proc/kallsyms")));
        assert_eq!(
            cached.io_error().and_then(io::Error::raw_os_error),
            Some(libc::EACCES)
        );
        let text = cached.to_string();
        let cause = std::error::Error::source(&cached).unwrap().to_string();
        assert!(!text.contains(&cause), "{text} repeats {cause}");
    }
}
