//! Facts about the running kernel and this process, each read by one function: its BTF
//! (vmlinux and modules), symbols (kallsyms), config (kconfig), syscall entry names, what it supports
//! ([`features`]), where the kernel filesystems are ([`fs`]), what the process may do
//! ([`privileges`]), and what follows from them when the kernel refuses something
//! ([`permission`]). A fact that cannot be read fails with a [`KernelFactError`]. This module
//! uses nothing of the crate above it: programs, maps and the loader use it.

pub(crate) mod btf;
mod error;
pub mod features;
pub mod fs;
pub(crate) mod functions;
pub(crate) mod kallsyms;
pub(crate) mod kconfig;
pub(crate) mod map_type;
pub mod permission;
pub mod privileges;
pub(crate) mod syscalls;

pub use error::KernelFactError;
