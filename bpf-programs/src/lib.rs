//! Load eBPF objects, relocate them for the running kernel and attach their programs.

pub mod maps;
pub mod programs;
