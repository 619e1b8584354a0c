//! The eBPF object model, BTF and relocations: everything computable without a kernel.
