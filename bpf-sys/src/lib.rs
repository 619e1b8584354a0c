//! Kernel UAPI types and thin safe wrappers over the syscalls an eBPF loader needs.

pub mod generated;
