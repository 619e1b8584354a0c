//! `fmod_ret/<function>`: runs before an error-injectable kernel function and may replace its
//! return value.

use super::btf_target::define_function_tracer;

define_function_tracer!(
    /// An `fmod_ret` program.
    FModRet,
    FModRetLink,
    FModRetLinkId,
    FModRet,
    BPF_MODIFY_RETURN
);
