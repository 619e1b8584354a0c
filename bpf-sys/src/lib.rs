//! Kernel UAPI types and thin safe wrappers over the syscalls an eBPF loader needs.
//!
//! Every fd returned is an [`OwnedFd`](std::os::fd::OwnedFd), every fd taken a
//! [`BorrowedFd`](std::os::fd::BorrowedFd). Failures are [`SyscallError`]s naming the call
//! ([`Command`]) and carrying the errno; program and BTF loads return [`LoadError`] with the log.

pub mod error;
pub mod generated;
pub mod ids;
pub mod info;
pub mod insn;
pub mod map;
pub mod obj;
pub mod pod;
pub mod prog;
mod syscall;
pub mod test_run;
pub mod util;

pub use error::{
    BpfCommand, BtfLoadError, Command, LoadError, NetlinkRequest, PerfEventIoctl, ProgLoadError,
    SocketOption, SyscallError, VerifierLog,
};
