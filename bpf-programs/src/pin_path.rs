//! Pin paths: pins can only be made on a BPF filesystem (bpffs), so a refused pin is explained
//! by where its directory is.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use bpf_sys::util::{BPF_FS_MAGIC, fd_filesystem_magic};

/// The directory a pin at `path` would be made in, if it exists and is not on a BPF
/// filesystem.
pub(crate) fn directory_outside_bpffs(path: &Path) -> Option<&Path> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let magic = fd_filesystem_magic(File::open(dir).ok()?.as_fd()).ok()?;
    (magic != BPF_FS_MAGIC).then_some(dir)
}
