//! Socket options that attach BPF programs to sockets.

use std::os::fd::{AsRawFd, BorrowedFd};

use crate::error::{Command, SocketOption, SyscallError};

fn setsockopt_int(
    sock: BorrowedFd<'_>,
    which: SocketOption,
    name: libc::c_int,
    value: libc::c_int,
) -> Result<(), SyscallError> {
    // SAFETY: the option value is a live c_int and its exact size is passed.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(SyscallError::last_os_error(Command::Setsockopt(which)));
    }
    Ok(())
}

/// Attaches a socket filter program to `sock` (`SO_ATTACH_BPF`).
pub fn attach_socket_filter(
    sock: BorrowedFd<'_>,
    prog_fd: BorrowedFd<'_>,
) -> Result<(), SyscallError> {
    setsockopt_int(
        sock,
        SocketOption::AttachBpf,
        libc::SO_ATTACH_BPF,
        prog_fd.as_raw_fd(),
    )
}

/// Removes the socket filter from `sock` (`SO_DETACH_BPF`).
pub fn detach_socket_filter(sock: BorrowedFd<'_>) -> Result<(), SyscallError> {
    setsockopt_int(sock, SocketOption::DetachBpf, libc::SO_DETACH_BPF, 0)
}

/// Sets the program choosing among `SO_REUSEPORT` sockets (`SO_ATTACH_REUSEPORT_EBPF`).
pub fn attach_reuseport_prog(
    sock: BorrowedFd<'_>,
    prog_fd: BorrowedFd<'_>,
) -> Result<(), SyscallError> {
    setsockopt_int(
        sock,
        SocketOption::AttachReuseportEbpf,
        libc::SO_ATTACH_REUSEPORT_EBPF,
        prog_fd.as_raw_fd(),
    )
}

/// Whether `sock` has a socket filter (`SO_GET_FILTER`: the kernel answers the length of a
/// classic filter, `EACCES` for an eBPF one, 0 for none).
pub fn socket_filter_attached(sock: BorrowedFd<'_>) -> std::io::Result<bool> {
    let mut len: libc::socklen_t = 0;
    // SAFETY: a zero length asks only for the filter's size; no buffer is written.
    let ret = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_GET_FILTER,
            std::ptr::null_mut(),
            &raw mut len,
        )
    };
    if ret == 0 {
        return Ok(len != 0);
    }
    match std::io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::EACCES) => Ok(true),
        e => Err(e),
    }
}
