//! Errors of [`Object::parse`](super::Object::parse): each names what is wrong and where.

/// Why an eBPF object could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a valid ELF file: {0}")]
    Elf(String),
    #[error("ELF class {class} is not supported: eBPF objects are 64-bit (class 2)")]
    WrongClass { class: u8 },
    #[error("ELF data encoding {encoding} does not match this host's byte order")]
    WrongEndianness { encoding: u8 },
    #[error("ELF machine {machine} is not EM_BPF (247)")]
    WrongMachine { machine: u16 },
    #[error("section {index}: {reason}")]
    Section { index: usize, reason: String },
    #[error("section `{section}`: size {size} is not a multiple of 8, not whole instructions")]
    CodeSize { section: String, size: u64 },
    #[error("symbol {index}: {reason}")]
    Symbol { index: usize, reason: String },
    #[error("function `{name}` in section `{section}`: offset {offset} size {size} {reason}")]
    FunctionBounds {
        name: String,
        section: String,
        offset: u64,
        size: u64,
        reason: &'static str,
    },
    #[error(
        "relocation section `{section}` entry {entry}: symbol index {symbol} is out of range ({count} symbols)"
    )]
    RelocationSymbol {
        section: String,
        entry: usize,
        symbol: usize,
        count: usize,
    },
    #[error(
        "relocation at offset {offset} of section `{section}` against `{symbol}` is not inside any function"
    )]
    RelocationOutsideFunction {
        section: String,
        offset: u64,
        symbol: String,
    },
    #[error(
        "relocation at offset {offset} of section `{section}` against `{symbol}` points into the middle of an ld_imm64"
    )]
    RelocationInsideLdImm64 {
        section: String,
        offset: u64,
        symbol: String,
    },
    #[error(
        "section `{section}`: size {size} cannot hold {symbols} map definitions of at least {min} bytes each"
    )]
    MapsSectionSize {
        section: String,
        size: u64,
        symbols: usize,
        min: usize,
    },
    #[error("map `{map}` in section `{section}`: {reason}")]
    Map {
        map: String,
        section: String,
        reason: String,
    },
    #[error("`license` section is not a NUL-terminated UTF-8 string")]
    License,
    #[error("`version` section has {size} bytes, expected 4")]
    Version { size: u64 },
    #[error("BTF: {0}")]
    Btf(String),
    #[error("invalid .BTF")]
    InvalidBtf(#[from] crate::btf::BtfError),
    #[error("extern `{name}`: {reason}")]
    Extern { name: String, reason: String },
    #[error("duplicate program name `{name}` (sections `{first}` and `{second}`)")]
    DuplicateProgram {
        name: String,
        first: String,
        second: String,
    },
}
