//! Pinning objects in bpffs and opening pinned objects.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{BpfCommand, SyscallError};
use crate::syscall::{cstring, fd_u32, sys_bpf, sys_bpf_fd, zeroed_attr};

/// Pins the object behind `fd` at `path` (inside a bpffs mount).
pub fn obj_pin(fd: BorrowedFd<'_>, path: &Path) -> Result<(), SyscallError> {
    let cmd = BpfCommand::ObjPin;
    let path = cstring(cmd, path.as_os_str().as_bytes())?;
    let mut raw = zeroed_attr();
    // SAFETY: writing plain fields of a zeroed union; `path` outlives the call.
    let a = unsafe { &mut raw.__bindgen_anon_4 };
    a.pathname = path.as_ptr() as u64;
    a.bpf_fd = fd_u32(fd);
    sys_bpf(cmd, &mut raw).map(drop)
}

/// Opens the object pinned at `path`; `file_flags` is 0, `BPF_F_RDONLY` or `BPF_F_WRONLY`.
pub fn obj_get(path: &Path, file_flags: u32) -> Result<OwnedFd, SyscallError> {
    let cmd = BpfCommand::ObjGet;
    let path = cstring(cmd, path.as_os_str().as_bytes())?;
    let mut raw = zeroed_attr();
    // SAFETY: writing plain fields of a zeroed union; `path` outlives the call.
    let a = unsafe { &mut raw.__bindgen_anon_4 };
    a.pathname = path.as_ptr() as u64;
    a.file_flags = file_flags;
    sys_bpf_fd(cmd, &mut raw)
}
