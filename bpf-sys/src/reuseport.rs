//! Removing the program that picks among `SO_REUSEPORT` sockets.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `SO_DETACH_REUSEPORT_BPF` (same value on every architecture).
const SO_DETACH_REUSEPORT_BPF: libc::c_int = 68;

/// Removes the reuseport program (BPF or classic) from the group of `sock`.
pub fn detach_reuseport_prog(sock: BorrowedFd<'_>) -> io::Result<()> {
    let value: libc::c_int = 0;
    // SAFETY: the option value is a live c_int and its exact size is passed.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_DETACH_REUSEPORT_BPF,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
