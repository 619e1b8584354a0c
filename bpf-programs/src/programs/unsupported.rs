//! Programs without a typed wrapper: known types (loadable, attach through their fd) and
//! unknown sections (reported on `load`).

use super::links::{FdLink, define_link_wrapper};
use super::{DefaultLoad, ProgramData, ProgramError, impl_program_common};

define_link_wrapper!(
    /// A link of an [`UnsupportedProgram`] (never created by this library).
    UnsupportedLink,
    UnsupportedLinkId,
    FdLink
);

/// A program of a kernel type this library has no typed wrapper for: it loads, and its fd can
/// be attached by hand.
#[derive(Debug)]
pub struct UnsupportedProgram {
    pub(crate) data: ProgramData<UnsupportedLink>,
}

impl UnsupportedProgram {
    pub(crate) fn new(data: ProgramData<UnsupportedLink>) -> Self {
        UnsupportedProgram { data }
    }

    /// Loads the program.
    pub fn load(&mut self) -> Result<(), ProgramError> {
        self.data.load()
    }
}

impl DefaultLoad for UnsupportedProgram {
    fn load_default(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
}

impl_program_common!(UnsupportedProgram, UnsupportedLink);

/// A program whose section name this library does not recognise; `load` names the section.
#[derive(Debug)]
pub struct UnknownProgram {
    pub(crate) data: ProgramData<UnsupportedLink>,
}

impl UnknownProgram {
    pub(crate) fn new(data: ProgramData<UnsupportedLink>) -> Self {
        UnknownProgram { data }
    }

    /// The section name as written in the object.
    pub fn section_name(&self) -> &str {
        match self.data.section() {
            Some(bpf_core::obj::ProgramSection::Unknown(name)) => name,
            _ => "",
        }
    }

    /// Always fails with [`ProgramError::UnknownSection`].
    pub fn load(&mut self) -> Result<(), ProgramError> {
        self.data.load()
    }
}

impl DefaultLoad for UnknownProgram {
    fn load_default(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
}

impl_program_common!(UnknownProgram, UnsupportedLink);
