//! Registering fds with the Tokio reactor (`tokio` feature).

use std::io;
use std::os::fd::OwnedFd;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Registers `fd` with the reactor of the current Tokio runtime for `interest`.
///
/// # Panics
///
/// Outside a Tokio runtime (Tokio's own rule for `AsyncFd`).
pub fn register(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` keeps its fd open and returns the same number from `as_raw_fd` for
    // as long as it lives, which is as long as the `AsyncFd` holding it.
    match unsafe { AsyncFd::register_with_interest(fd, interest) } {
        Ok(fd) => Ok(fd),
        Err(e) => Err(e.into()),
    }
}
