//! Facts about the running kernel and this process, each read by one function: where the
//! kernel filesystems are ([`fs`]), what the process may do ([`privileges`]), and what follows
//! from them when the kernel refuses something ([`permission`]).

pub mod fs;
pub mod permission;
pub mod privileges;
