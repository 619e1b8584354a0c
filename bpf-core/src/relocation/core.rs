//! CO-RE: field offsets, type facts and enum values adjusted to the target kernel's BTF.

use bpf_sys::generated::bpf_insn;

use super::RelocationError;
use crate::obj::{Function, Object};

/// Applies `function`'s CO-RE relocations to its copy `insns` in the program being linked.
///
/// Hook for the BTF layer's CO-RE engine. Until it is wired in, instructions keep the offsets
/// they were compiled with (correct only on a kernel whose layout matches the object's BTF).
pub(super) fn apply(
    _object: &Object,
    program: &str,
    function: &Function,
    _insns: &mut [bpf_insn],
) -> Result<(), RelocationError> {
    if !function.core_relocations.is_empty() {
        log::debug!(
            "program `{program}`: {} CO-RE relocations of `{}` left as compiled (no CO-RE engine)",
            function.core_relocations.len(),
            function.name
        );
    }
    Ok(())
}
