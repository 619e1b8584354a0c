//! Programs without a typed wrapper: known types (loadable, attach through their fd) and
//! unknown sections (reported on `load`).

use super::links::{FdLink, define_link_wrapper};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A link of an [`UnsupportedProgram`] (never created by this library).
    UnsupportedLink,
    UnsupportedLinkId,
    FdLink
);

/// A program of a kernel type this library has no typed wrapper for: it loads, and its fd can
/// be attached by hand.
pub type UnsupportedProgram = TypedProgram<UnsupportedProgramKind>;

/// The kind of [`UnsupportedProgram`] programs.
#[derive(Debug)]
pub enum UnsupportedProgramKind {}

impl ProgramKind for UnsupportedProgramKind {
    type Link = UnsupportedLink;
}

impl LoadWithoutArguments for UnsupportedProgramKind {}

impl UnsupportedProgram {}

/// A program whose section name this library does not recognise; `load` names the section.
pub type UnknownProgram = TypedProgram<UnknownProgramKind>;

/// The kind of [`UnknownProgram`] programs.
#[derive(Debug)]
pub enum UnknownProgramKind {}

impl ProgramKind for UnknownProgramKind {
    type Link = UnsupportedLink;
}

impl LoadWithoutArguments for UnknownProgramKind {}

impl UnknownProgram {
    /// The section name as written in the object.
    pub fn section_name(&self) -> &str {
        match self.data.section() {
            Some(bpf_core::obj::ProgramSection::Unknown(name)) => name,
            _ => "",
        }
    }
}
