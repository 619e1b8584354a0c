//! CO-RE: field offsets, type facts and enum values adjusted to the target kernel's BTF.

use bpf_sys::generated::bpf_insn;

use super::{RelocationError, RelocationErrorKind};
use crate::obj::{Function, Object};

/// Applies `function`'s CO-RE relocations to its copy `insns` in the program being linked.
///
/// Hook for the BTF layer's CO-RE engine: until it is wired in, functions carrying CO-RE records
/// are refused rather than loaded with unadjusted offsets.
pub(super) fn apply(
    _object: &Object,
    program: &str,
    function: &Function,
    _insns: &mut [bpf_insn],
) -> Result<(), RelocationError> {
    match function.core_relocations.first() {
        None => Ok(()),
        Some(first) => Err(RelocationError {
            program: program.to_owned(),
            function: function.name.clone(),
            insn: first.insn_off as usize / crate::obj::insn::INSN_SIZE,
            symbol: String::new(),
            kind: RelocationErrorKind::Core("CO-RE engine not wired in yet".into()),
        }),
    }
}
