//! Mounts and mount namespaces: what finding (and mounting) tracefs and bpffs needs.
//!
//! Paths resolve in the calling thread's mount namespace, which after
//! [`unshare_mount_namespace`] may differ from the rest of the process's.

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `statfs` magic of tracefs.
pub const TRACEFS_MAGIC: u32 = 0x7472_6163;
/// `statfs` magic of the BPF filesystem.
pub const BPF_FS_MAGIC: u32 = 0xcafe_4a11;
/// `statfs` magic of debugfs.
pub const DEBUGFS_MAGIC: u32 = 0x6462_6720;
/// `statfs` magic of securityfs.
pub const SECURITYFS_MAGIC: u32 = 0x7363_6673;
/// `statfs` magic of the cgroup v2 filesystem.
pub const CGROUP2_SUPER_MAGIC: u32 = 0x6367_7270;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn c_str(text: &str) -> io::Result<CString> {
    CString::new(text)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "string contains a NUL byte"))
}

/// The magic number of the filesystem `path` lives on (`statfs(2)`'s `f_type`).
pub fn filesystem_magic(path: &Path) -> io::Result<u32> {
    let path = c_path(path)?;
    let mut buf = MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `path` is NUL-terminated and `buf` is a writable statfs the call fills.
    let ret = unsafe { libc::statfs(path.as_ptr(), buf.as_mut_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statfs succeeded, so it filled the struct (which was zeroed before anyway).
    let buf = unsafe { buf.assume_init() };
    // f_type's width differs between architectures; the magics are 32-bit values.
    Ok(buf.f_type as u32)
}

/// The magic number of the filesystem `fd` is on (`fstatfs(2)`'s `f_type`).
pub fn fd_filesystem_magic(fd: BorrowedFd<'_>) -> io::Result<u32> {
    let mut buf = MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `fd` is open and `buf` is a writable statfs the call fills.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), buf.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatfs succeeded, so it filled the struct (which was zeroed before anyway).
    let buf = unsafe { buf.assume_init() };
    Ok(buf.f_type as u32)
}

/// Mounts a filesystem of type `fstype` (e.g. `tracefs`, `bpf`) at `target`, with `options`
/// (e.g. `mode=0700`) as its data.
pub fn mount(fstype: &str, target: &Path, options: Option<&str>) -> io::Result<()> {
    let source = c_str(fstype)?;
    let target = c_path(target)?;
    let options = options.map(c_str).transpose()?;
    let data = options
        .as_ref()
        .map_or(std::ptr::null(), |o| o.as_ptr().cast::<libc::c_void>());
    // SAFETY: every pointer is a NUL-terminated string that outlives the call (or null data).
    let ret = unsafe { libc::mount(source.as_ptr(), target.as_ptr(), source.as_ptr(), 0, data) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Detaches the filesystem mounted at `target` (lazily: it goes once nothing uses it).
pub fn unmount(target: &Path) -> io::Result<()> {
    let target = c_path(target)?;
    // SAFETY: `target` is NUL-terminated and outlives the call.
    let ret = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Gives the calling thread (only it) a mount namespace of its own, a copy of the current one
/// whose mounts no longer propagate to or from the original (`mount --make-rprivate /`).
pub fn unshare_mount_namespace() -> io::Result<()> {
    // SAFETY: unshare takes only flags; it changes the calling thread's namespaces.
    let ret = unsafe { libc::unshare(libc::CLONE_NEWNS) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let root = c"/";
    // SAFETY: changing the propagation of "/" recursively; every pointer is a static C string
    // or null.
    let ret = unsafe {
        libc::mount(
            c"none".as_ptr(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_is_procfs() {
        const PROC_SUPER_MAGIC: u32 = 0x9fa0;
        assert_eq!(
            filesystem_magic(Path::new("/proc")).unwrap(),
            PROC_SUPER_MAGIC
        );
    }

    #[test]
    fn missing_path_is_an_error() {
        let error = filesystem_magic(Path::new("/nonexistent/for/sure")).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOENT));
    }
}
