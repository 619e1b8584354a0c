//! `fexit/<function>`: runs when a kernel function returns, with arguments and return value.

use super::btf_target::define_function_tracer;

define_function_tracer!(
    /// An `fexit` program.
    FExit,
    FExitLink,
    FExitLinkId,
    FExit,
    BPF_TRACE_FEXIT
);
