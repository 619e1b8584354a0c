//! Programs: the global functions of program sections.

use super::{FunctionId, ProgramSection};

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
