//! The eBPF object model, BTF and relocations: everything computable without a kernel.

pub mod btf;
pub mod disasm;
pub mod log;
pub mod obj;
pub mod relocation;
pub mod usdt;
