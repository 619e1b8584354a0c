//! The ELF object model: programs, functions, maps, global data and externs.
//!
//! [`Object::parse`] reads the bytes of an object built by `clang -target bpf` for libbpf and
//! keeps everything the loader and [`relocation`](crate::relocation) need, without a syscall.

mod arena;
mod btf_externs;
mod btf_fixup;
mod btf_maps;
mod error;
mod externs;
mod globals;
pub mod insn;
mod kconfig;
mod maps;
mod parse;
mod section;
mod struct_ops;
mod struct_ops_layout;

use std::collections::BTreeMap;

use bpf_sys::generated::{bpf_func_info, bpf_insn, bpf_line_info};

use crate::btf::{Btf, BtfExt};

pub use arena::{ARENA_SECTION, ArenaData, ArenaPlacementError};
pub use error::ParseError;
pub use externs::{Extern, ExternKind, KconfigType};
pub use globals::SetGlobalError;
pub use kconfig::{KconfigError, parse_kconfig};
pub use maps::{DataKind, Map, MapDef, MapKind, MapSlot, Pinning, SlotTarget, Variable};
pub use section::{ProgramSection, Tracepoint, UprobeTarget, UsdtTarget};
pub use struct_ops::{StructOps, StructOpsAttach, StructOpsMember, StructOpsProgramError};
pub use struct_ops_layout::{
    StructOpsDataMember, StructOpsLayout, StructOpsLayoutError, StructOpsProgramSlot,
};

/// Identifies a function: its ELF section and its first instruction's index in that section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionId {
    pub section_index: usize,
    pub insn_index: usize,
}

/// How an ELF symbol binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Local,
    Global,
    Weak,
}

/// What an ELF symbol names (`STT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    NoType,
    Object,
    Func,
    Section,
    Other(u8),
}

/// An ELF symbol as relocations see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub index: usize,
    pub name: String,
    /// `None` for undefined (extern) symbols and special indexes (absolute, common).
    pub section_index: Option<usize>,
    pub value: u64,
    pub size: u64,
    pub kind: SymbolKind,
    pub binding: Binding,
    /// `STV_HIDDEN` / `STV_INTERNAL`: not visible outside the object.
    pub hidden: bool,
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

/// A program: a global function of a program section.
#[derive(Debug, Clone)]
pub struct Program {
    pub name: String,
    pub section_name: String,
    pub section: ProgramSection,
    pub function: FunctionId,
    /// `false` for libbpf's `SEC("?...")`: loaded only when asked for explicitly.
    pub autoload: bool,
}

/// A parsed eBPF object. Nothing in it refers to kernel resources.
#[derive(Debug, Clone)]
pub struct Object {
    pub license: Option<String>,
    pub kernel_version: Option<u32>,
    /// The object's `.BTF` (func/line info types, map key/value types, CO-RE local types).
    pub btf: Option<Btf>,
    /// The object's `.BTF.ext`, also distributed to [`Function`]s.
    pub btf_ext: Option<BtfExt>,
    pub programs: Vec<Program>,
    pub functions: BTreeMap<FunctionId, Function>,
    pub maps: Vec<Map>,
    pub externs: Vec<Extern>,
    /// `__arena` globals (`.addr_space.1`), placed inside the object's arena map.
    pub arena_data: Option<ArenaData>,
    /// `bpf_log.h` call-site descriptors (section `.bpf_log`), read by the log reader.
    pub log_section: Option<crate::log::LogSection>,
}

impl Object {
    /// Parses an eBPF ELF object. Never panics on malformed input.
    pub fn parse(data: &[u8]) -> Result<Object, ParseError> {
        parse::parse(data)
    }

    /// The program named `name` (its function's symbol name).
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// Whether ELF section `section_index` holds functions.
    pub fn is_code_section(&self, section_index: usize) -> bool {
        let first = FunctionId {
            section_index,
            insn_index: 0,
        };
        self.functions
            .range(first..)
            .next()
            .is_some_and(|(id, _)| id.section_index == section_index)
    }

    /// The function that starts at `id`.
    pub fn function(&self, id: FunctionId) -> Option<&Function> {
        self.functions.get(&id)
    }
}
