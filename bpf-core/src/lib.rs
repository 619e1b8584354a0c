//! The eBPF object model, BTF and relocations: everything computable without a kernel.

#![forbid(unsafe_code)]

pub mod btf;
pub mod disasm;
pub mod elf;
pub mod log;
pub mod names;
pub mod obj;
pub mod relocation;
pub mod usdt;
