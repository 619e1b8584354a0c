//! Typed access to eBPF maps: one module per map type.
