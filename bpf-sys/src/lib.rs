//! Kernel UAPI types and thin safe wrappers over the syscalls an eBPF loader needs.
//!
//! Every fd returned is an [`OwnedFd`](std::os::fd::OwnedFd), every fd taken a
//! [`BorrowedFd`](std::os::fd::BorrowedFd). Failures are [`SyscallError`]s naming the call
//! ([`Command`]) and carrying the errno; program and BTF loads return [`LoadError`] with the log.
//!
//! Without its default `syscalls` feature the crate is [`generated`] alone: the kernel's UAPI
//! types and constants, all that a crate computing without a kernel (bpf-core) needs.

#![warn(missing_docs)]

#[cfg(feature = "tokio")]
pub mod async_fd;
#[cfg(feature = "syscalls")]
pub mod attach;
#[cfg(feature = "syscalls")]
pub mod btf;
#[cfg(feature = "syscalls")]
pub mod capability;
#[cfg(feature = "syscalls")]
pub mod epoll;
#[cfg(feature = "syscalls")]
pub mod error;
#[cfg(feature = "syscalls")]
pub mod file_map;
#[cfg(feature = "syscalls")]
pub mod flags;
#[allow(missing_docs)]
pub mod generated;
#[cfg(feature = "syscalls")]
pub mod ids;
#[cfg(feature = "syscalls")]
pub mod info;
#[cfg(feature = "syscalls")]
pub mod insn;
#[cfg(feature = "syscalls")]
pub mod link;
#[cfg(feature = "syscalls")]
mod log;
#[cfg(feature = "syscalls")]
pub mod map;
#[cfg(feature = "syscalls")]
pub mod misc;
#[cfg(feature = "syscalls")]
pub mod mmap;
#[cfg(feature = "syscalls")]
pub mod mount;
#[cfg(feature = "syscalls")]
pub mod netlink;
#[cfg(feature = "syscalls")]
pub mod netns;
#[cfg(feature = "syscalls")]
pub mod obj;
#[cfg(feature = "syscalls")]
pub mod perf_event;
#[cfg(feature = "syscalls")]
pub mod perf_ring;
#[cfg(feature = "syscalls")]
pub mod pod;
#[cfg(feature = "syscalls")]
pub mod prog;
#[cfg(feature = "syscalls")]
pub mod reuseport;
#[cfg(feature = "syscalls")]
pub mod ring_buf;
#[cfg(feature = "syscalls")]
pub mod socket;
#[cfg(feature = "syscalls")]
pub mod sockopt;
#[cfg(feature = "syscalls")]
mod syscall;
#[cfg(feature = "syscalls")]
pub mod test_run;
#[cfg(feature = "syscalls")]
pub mod user_ring_buf;
#[cfg(feature = "syscalls")]
pub mod util;

#[cfg(feature = "syscalls")]
pub use error::{
    BpfCommand, BtfLoadError, Command, LoadError, NetlinkAck, NetlinkRequest, PerfEventIoctl,
    ProgLoadError, SocketOption, SyscallError, VerifierLog,
};
