//! bpf-to-bpf calls and callback pointers: which function an instruction targets, and the
//! functions a program reaches through them.

use std::collections::HashSet;

use bpf_sys::generated::bpf_insn;

use crate::obj::insn::{self, LD_IMM64};
use crate::obj::{Function, FunctionId, InsnRelocation, Object, SymbolKind};

/// The function a call or function pointer at `insn_index` of `function` targets, if it is one.
pub(super) fn call_target(
    object: &Object,
    function: &Function,
    insn_index: usize,
    insn: &bpf_insn,
    relocation: Option<&InsnRelocation>,
) -> Option<(usize, i64)> {
    let is_call = insn::is_pseudo_call(insn);
    let relocated_to_code = relocation.is_some_and(|r| {
        r.symbol
            .section_index
            .is_some_and(|s| object.is_code_section(s))
            && matches!(r.symbol.kind, SymbolKind::Func | SymbolKind::Section)
    });
    let is_func_ptr = insn.code == LD_IMM64 && (insn::is_pseudo_func(insn) || relocated_to_code);
    if !is_call && !is_func_ptr {
        return None;
    }
    let imm = i64::from(insn.imm);
    match relocation {
        Some(r) if relocated_to_code => {
            let section = r.symbol.section_index?;
            let base = (r.symbol.value / insn::INSN_SIZE as u64) as i64;
            let target = if is_call {
                base + imm + 1
            } else {
                base + imm / insn::INSN_SIZE as i64
            };
            Some((section, target))
        }
        // Relocated against something else (e.g. a kfunc extern): not a bpf-to-bpf call.
        Some(_) => None,
        None => Some((
            function.id.section_index,
            (function.id.insn_index + insn_index) as i64 + imm + 1,
        )),
    }
}

/// Each instruction of `function` with the ELF relocation against it, if any.
pub(super) fn insns_with_relocations(
    function: &Function,
) -> impl Iterator<Item = (usize, &bpf_insn, Option<&InsnRelocation>)> {
    // Relocations are sorted by instruction: walk them alongside the instructions.
    let mut relocations = function.relocations.iter().peekable();
    function.insns.iter().enumerate().map(move |(index, insn)| {
        while relocations.next_if(|r| r.insn_index < index).is_some() {}
        (index, insn, relocations.next_if(|r| r.insn_index == index))
    })
}

/// The functions `entry` calls or takes the address of, directly or through others; calls to
/// no function are skipped here (relocation reports them).
fn reachable_functions<'o>(object: &'o Object, entry: &'o Function) -> Vec<&'o Function> {
    let mut seen = HashSet::from([entry.id]);
    let mut order = vec![entry];
    let mut next = 0;
    while let Some(&function) = order.get(next) {
        for (index, insn, relocation) in insns_with_relocations(function) {
            let Some((section_index, target)) =
                call_target(object, function, index, insn, relocation)
            else {
                continue;
            };
            let callee = usize::try_from(target).ok().and_then(|insn_index| {
                object.functions.get(&FunctionId {
                    section_index,
                    insn_index,
                })
            });
            if let Some(callee) = callee.filter(|c| seen.insert(c.id)) {
                order.push(callee);
            }
        }
        next += 1;
    }
    order
}

impl Object {
    /// Whether program `program` or a function it reaches (calls, callback pointers) has CO-RE
    /// relocation records, i.e. whether relocating it needs target BTF
    /// ([`Bindings::core_target`](super::Bindings::core_target)). `false` for an unknown
    /// program. Reads only the object: no relocation is done, nothing is copied.
    pub fn has_core_relocations(&self, program: &str) -> bool {
        if self
            .functions
            .values()
            .all(|f| f.core_relocations.is_empty())
        {
            return false;
        }
        let Some(entry) = self
            .program(program)
            .and_then(|p| self.function(p.function))
        else {
            return false;
        };
        reachable_functions(self, entry)
            .iter()
            .any(|f| !f.core_relocations.is_empty())
    }
}
