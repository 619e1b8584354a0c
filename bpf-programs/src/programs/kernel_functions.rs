//! Kernel functions matching a glob pattern and the kernel's symbol table, read in
//! [`crate::kernel`] and kept here under their public path.

pub use crate::kernel::functions::glob_matches;
pub use crate::kernel::kallsyms::KernelSymbols;
