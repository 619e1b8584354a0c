//! Functions of executable sections, with the relocation and `.BTF.ext` records of their
//! instructions.

use bpf_sys::generated::{bpf_func_info, bpf_insn, bpf_line_info};

use super::{Binding, Symbol};

/// Identifies a function: its ELF section and its first instruction's index in that section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionId {
    pub section_index: usize,
    pub insn_index: usize,
}

/// An instruction that an ELF relocation points at, and the symbol it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsnRelocation {
    /// Index of the instruction within its function.
    pub insn_index: usize,
    pub symbol: Symbol,
}

/// A CO-RE relocation record of a function (`insn_off` here is a byte offset within the function).
pub type CoreRelocation = crate::btf::CoreRelo;

/// One function of an executable section: a program's entry point or a subprogram.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub section_name: String,
    pub id: FunctionId,
    pub binding: Binding,
    pub insns: Vec<bpf_insn>,
    /// ELF relocations against this function's instructions, by instruction order.
    pub relocations: Vec<InsnRelocation>,
    /// BTF func_info; `insn_off` is an instruction index relative to this function.
    pub func_info: Vec<bpf_func_info>,
    /// BTF line_info; `insn_off` is an instruction index relative to this function.
    pub line_info: Vec<bpf_line_info>,
    pub core_relocations: Vec<CoreRelocation>,
}
