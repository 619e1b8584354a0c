//! Errors of BTF parsing and manipulation.

use super::kind::BtfKind;

/// What was wrong with a BTF or `.BTF.ext` blob, and where.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BtfError {
    #[error("BTF truncated: {what} needs {needed} bytes at offset {offset}, {available} available")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("bad BTF magic {0:#06x}")]
    BadMagic(u16),
    #[error("big-endian BTF is not supported")]
    BigEndian,
    #[error("unsupported BTF version {0}")]
    BadVersion(u8),
    #[error("BTF header: {0}")]
    BadHeader(&'static str),
    #[error("BTF type #{id} has unknown kind {kind}")]
    UnknownKind { id: u32, kind: u32 },
    #[error("BTF type id {id} out of range (types {first}..{end})")]
    TypeIdOutOfRange { id: u32, first: u32, end: u32 },
    #[error("BTF string offset {0} past the string table")]
    StringOffsetOutOfRange(u32),
    #[error("BTF string at offset {0} is not NUL-terminated")]
    UnterminatedString(u32),
    #[error("BTF string at offset {0} is not UTF-8")]
    InvalidString(u32),
    #[error("BTF type #{id}: expected {expected}, found {found:?}")]
    UnexpectedKind {
        id: u32,
        expected: &'static str,
        found: BtfKind,
    },
    #[error("BTF type #{id}: reference chain too long or looping")]
    ReferenceLoop { id: u32 },
    #[error("BTF type #{id} has no size")]
    NoSize { id: u32 },
    #[error("BTF type #{id}: size overflows")]
    SizeOverflow { id: u32 },
    #[error("BTF type #{id}: member/index {index} out of range")]
    IndexOutOfRange { id: u32, index: u32 },
    #[error(".BTF.ext: {0}")]
    BadExt(String),
    #[error("BTF DATASEC {section}: {reason}")]
    Datasec { section: String, reason: String },
    /// An ELF file given as BTF could not be read as ELF.
    #[error("reading BTF from an ELF file")]
    Elf(#[source] crate::elf::ElfError),
    /// An ELF file given as BTF has no `.BTF` section.
    #[error("the ELF file has no .BTF section")]
    NoBtfSection,
    /// The caller could not read a BTF file (bpf-core itself reads none).
    #[error("reading {path}: {error}")]
    Io { path: String, error: String },
}
