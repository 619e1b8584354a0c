//! Where in a program an instruction is being relocated, for building errors.

use super::{RelocationError, RelocationErrorKind};
use crate::obj::Function;

/// Where a relocation error happened, for building [`RelocationError`]s.
pub(super) struct Site<'a> {
    pub program: &'a str,
    pub function: &'a Function,
    pub insn: usize,
    pub symbol: &'a str,
}

impl Site<'_> {
    pub fn error(&self, kind: RelocationErrorKind) -> RelocationError {
        RelocationError {
            program: self.program.to_owned(),
            function: self.function.name.clone(),
            insn: self.insn,
            symbol: self.symbol.to_owned(),
            kind,
        }
    }
}
