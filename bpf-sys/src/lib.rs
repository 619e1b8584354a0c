//! Kernel UAPI types and thin safe wrappers over the syscalls an eBPF loader needs.
//!
//! Every fd returned is an [`OwnedFd`](std::os::fd::OwnedFd), every fd taken a
//! [`BorrowedFd`](std::os::fd::BorrowedFd). Failures are [`SyscallError`]s naming the call
//! ([`Command`]) and carrying the errno; program and BTF loads return [`LoadError`] with the log.

#![warn(missing_docs)]

#[cfg(feature = "tokio")]
pub mod async_fd;
pub mod attach;
pub mod btf;
pub mod capability;
pub mod epoll;
pub mod error;
pub mod file_map;
pub mod flags;
#[allow(missing_docs)]
pub mod generated;
pub mod ids;
pub mod info;
pub mod insn;
pub mod link;
mod log;
pub mod map;
pub mod misc;
pub mod mmap;
pub mod mount;
pub mod netlink;
pub mod netns;
pub mod obj;
pub mod perf_event;
pub mod perf_ring;
pub mod pod;
pub mod prog;
pub mod reuseport;
pub mod ring_buf;
pub mod socket;
pub mod sockopt;
mod syscall;
pub mod test_run;
pub mod user_ring_buf;
pub mod util;

pub use error::{
    BpfCommand, BtfLoadError, Command, LoadError, NetlinkAck, NetlinkRequest, PerfEventIoctl,
    ProgLoadError, SocketOption, SyscallError, VerifierLog,
};
