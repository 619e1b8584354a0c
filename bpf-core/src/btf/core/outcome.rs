//! What a relocation resolves to, the poison written when it cannot be satisfied, and why
//! computing or writing its value can fail.

use super::super::error::BtfError;

/// Helper id libbpf writes into an instruction whose relocation cannot be satisfied; the
/// verifier rejects it only if the instruction is reachable.
pub const POISON_HELPER_ID: i32 = 0xbad2310;

/// Result of a relocation for one spec pair (libbpf's `bpf_core_relo_res`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub orig_val: u64,
    pub new_val: u64,
    pub poison: bool,
    /// Check the instruction currently holds `orig_val`.
    pub validate: bool,
    /// Load/store size would change in a way that reads the wrong value.
    pub fail_memsz_adjust: bool,
    pub orig_sz: u32,
    pub new_sz: u32,
}

/// Why a relocation's value could not be computed from its specs, or not written into its
/// instruction (the instruction and relocation are named by the [`CoreError`](super::CoreError)
/// carrying it).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PatchError {
    #[error("empty access")]
    EmptyAccess,
    #[error("{kind} cannot apply to an array element access")]
    ArrayElementAccess { kind: &'static str },
    #[error("accessor is not a member")]
    NotAMember,
    #[error("bitfield cannot be read with a 64-bit load")]
    BitfieldTooWide,
    #[error("{kind} is not a {group} relocation")]
    WrongGroup {
        kind: &'static str,
        /// `field` or `type`: the group the computation was asked for.
        group: &'static str,
    },
    #[error("not an enum")]
    NotAnEnum,
    #[error(transparent)]
    Btf(#[from] BtfError),
    #[error("instruction out of range")]
    InsnOutOfRange,
    #[error("ALU instruction with a register source")]
    AluRegisterSource,
    #[error("ALU imm is {found}, expected {expected}")]
    UnexpectedImm { found: i32, expected: u64 },
    #[error("value {value} does not fit a 32-bit immediate")]
    ImmOverflow { value: u64 },
    #[error("memory offset is {found}, expected {expected}")]
    UnexpectedOffset { found: i16, expected: u64 },
    #[error("offset {offset} too large for a memory instruction")]
    OffsetTooLarge { offset: u64 },
    #[error("access is {access} bytes, field is {field}")]
    AccessSizeMismatch { access: u32, field: u32 },
    #[error("no load of {bytes} bytes")]
    NoLoadOfSize { bytes: u32 },
    #[error("BPF_LD other than a 64-bit immediate load")]
    NotLdImm64,
    #[error("truncated 64-bit immediate load")]
    TruncatedLdImm64,
    #[error("64-bit immediate load has unexpected form")]
    MalformedLdImm64,
    #[error("64-bit immediate is {found}, expected {expected}")]
    UnexpectedImm64 { found: u64, expected: u64 },
    #[error("instruction class {class:#x} cannot be relocated")]
    UnrelocatableClass { class: u8 },
}
