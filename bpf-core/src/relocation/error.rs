//! Relocation errors: every one names the program, the function, the instruction and the symbol.

/// What went wrong relocating one instruction.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RelocationErrorKind {
    #[error("no such program in the object")]
    UnknownProgram,
    #[error("the instruction (opcode {code:#04x}) cannot be relocated against this symbol")]
    BadInstruction { code: u8 },
    #[error("ld_imm64 is cut off at the end of the function")]
    TruncatedLdImm64,
    #[error("the symbol is not a map, global data, function or extern")]
    UnsupportedTarget,
    #[error("no map of the object is defined at offset {offset} of section {section_index}")]
    NoMapAtSymbol { section_index: usize, offset: u64 },
    #[error("map `{map}` has no fd or fd_array index in the bindings")]
    MapNotBound { map: String },
    #[error("offset {offset} is outside map `{map}` (value size {value_size})")]
    MapValueOffset {
        map: String,
        offset: i64,
        value_size: u32,
    },
    #[error(
        "call target (instruction {insn_index} of section {section_index}) is not the start of a function"
    )]
    CallTarget {
        section_index: usize,
        insn_index: i64,
    },
    #[error("extern is not resolved (no value was given and it is not weak)")]
    UnresolvedExtern,
    /// A call to a strong (not `__weak`) kfunc the bindings do not have: the loader looked it
    /// up in the kernel's BTF (vmlinux and loaded modules) and did not find it.
    #[error(
        "kfunc not found in the kernel's BTF (vmlinux or a loaded module's) and not declared \
         __weak"
    )]
    KfuncNotFound,
    #[error("extern is a kconfig value but the object has no `.kconfig` map")]
    NoKconfigMap,
    #[error(
        "the symbol is an `__arena` global, but the object declares no BPF_MAP_TYPE_ARENA map \
         to hold it"
    )]
    NoArenaMap,
    #[error(
        "the symbol is an `__arena` global, but the object declares several arena maps ({maps}); \
         `__arena` globals need exactly one"
    )]
    SeveralArenaMaps { maps: String },
    #[error("the bindings give no offset for the `__arena` globals inside arena map `{map}`")]
    ArenaDataNotPlaced { map: String },
    #[error("offset {offset} is outside the {size} bytes of `__arena` globals")]
    ArenaDataOffset { offset: i64, size: u64 },
    #[error("CO-RE: {0}")]
    Core(String),
}

/// A relocation failure, located.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error(
    "program `{program}`, function `{function}`, instruction {insn}, symbol `{symbol}`: {kind}"
)]
pub struct RelocationError {
    pub program: String,
    pub function: String,
    /// Instruction index within `function`.
    pub insn: usize,
    pub symbol: String,
    pub kind: RelocationErrorKind,
}
