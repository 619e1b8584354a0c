//! `fentry/<function>`: runs at the entry of a kernel function, with typed arguments.

use super::btf_target::define_function_tracer;

/// Why a function tracer (fentry, fexit, fmod_ret) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FEntryError {
    #[error("program `{program}`: no kernel or module function `{function}` in BTF")]
    FunctionNotFound { program: String, function: String },
    #[error("program `{program}` names no kernel function in its section; use load_target")]
    NoTarget { program: String },
}

define_function_tracer!(
    /// An `fentry` program.
    FEntry,
    FEntryLink,
    FEntryLinkId,
    FEntry,
    BPF_TRACE_FENTRY
);
