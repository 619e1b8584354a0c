//! ELF symbols as relocations and parsing see them.

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
