//! Network namespaces: moving the calling thread into one (netlink, ifindexes and BPF links on
//! interfaces all act on the caller's network namespace).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Moves the calling thread (only it) into the network namespace `netns` (a `/proc/*/ns/net`
/// or `/run/netns/<name>` fd).
pub fn enter_netns(netns: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns only reads the fd number and the flag; it changes the thread's namespace.
    let ret = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
