//! Load eBPF objects, relocate them for the running kernel and attach their programs.
