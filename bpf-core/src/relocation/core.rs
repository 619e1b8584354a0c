//! CO-RE: field offsets, type facts and enum values adjusted to the target kernel's BTF.

use bpf_sys::generated::bpf_insn;

use super::{Bindings, RelocationError, RelocationErrorKind};
use crate::btf::core::{self as btf_core, CoreError, PoisonedRelo};
use crate::obj::{Function, Object};

fn error_insn(error: &CoreError) -> usize {
    match error {
        CoreError::Btf { insn, .. }
        | CoreError::InvalidRelo { insn, .. }
        | CoreError::InvalidValue { insn, .. }
        | CoreError::Ambiguous { insn, .. }
        | CoreError::Patch { insn, .. } => *insn,
    }
}

/// Applies `function`'s CO-RE relocations to its copy `insns` in the program being linked,
/// against `bindings.core_target`; returns the relocations that could not be satisfied (their
/// instructions are poisoned: the verifier rejects them only if reachable).
///
/// Without a target, instructions keep the offsets they were compiled with (right only on a
/// kernel whose layout matches the object's BTF).
pub(super) fn apply(
    object: &Object,
    program: &str,
    function: &Function,
    bindings: &Bindings,
    insns: &mut [bpf_insn],
) -> Result<Vec<PoisonedRelo>, RelocationError> {
    if function.core_relocations.is_empty() {
        return Ok(Vec::new());
    }
    let (Some(local), Some(target)) = (object.btf.as_ref(), bindings.core_target.as_ref()) else {
        log::debug!(
            "program `{program}`: {} CO-RE relocations of `{}` left as compiled (no target BTF)",
            function.core_relocations.len(),
            function.name
        );
        return Ok(Vec::new());
    };
    let report =
        btf_core::relocate(insns, &function.core_relocations, local, target).map_err(|e| {
            let insn = error_insn(&e);
            RelocationError {
                program: program.to_owned(),
                function: function.name.clone(),
                insn,
                symbol: String::new(),
                kind: RelocationErrorKind::Core(e.to_string()),
            }
        })?;
    Ok(report.poisoned)
}
