//! eBPF program types: one module per type, each with its typed `attach`.
