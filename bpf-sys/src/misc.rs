//! Single-purpose commands: iterator instances, BPF tokens, run-time statistics.

use std::os::fd::{BorrowedFd, OwnedFd};

use crate::error::{BpfCommand, SyscallError};
use crate::generated::bpf_stats_type;
use crate::syscall::{fd_u32, sys_bpf_fd, zeroed_attr};

/// Opens a readable instance of the iterator behind `link_fd`.
pub fn iter_create(link_fd: BorrowedFd<'_>, flags: u32) -> Result<OwnedFd, SyscallError> {
    let mut raw = zeroed_attr();
    raw.iter_create.link_fd = fd_u32(link_fd);
    raw.iter_create.flags = flags;
    sys_bpf_fd(BpfCommand::IterCreate, &mut raw)
}

/// Creates a BPF token from a bpffs mount configured with delegation options.
pub fn token_create(bpffs_fd: BorrowedFd<'_>, flags: u32) -> Result<OwnedFd, SyscallError> {
    let mut raw = zeroed_attr();
    raw.token_create.bpffs_fd = fd_u32(bpffs_fd);
    raw.token_create.flags = flags;
    sys_bpf_fd(BpfCommand::TokenCreate, &mut raw)
}

/// Turns on global statistics (e.g. `BPF_STATS_RUN_TIME`) for as long as the fd lives.
pub fn enable_stats(stats_type: bpf_stats_type::Type) -> Result<OwnedFd, SyscallError> {
    let mut raw = zeroed_attr();
    raw.enable_stats.type_ = stats_type;
    sys_bpf_fd(BpfCommand::EnableStats, &mut raw)
}
