//! `freplace/<function>`: replaces a global function of another loaded program (which must
//! have been loaded with BTF).

use std::os::fd::BorrowedFd;

use super::btf_target::{ProgramTargetError, attach_tracing, set_program_target};
use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::ExtensionError;
use super::typed_program::{ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};

define_link_wrapper!(
    /// A freplace attachment.
    ExtensionLink,
    ExtensionLinkId,
    FdLink
);

/// An `freplace` (extension) program.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Extension;
///
/// let mut target = Bpf::load_file("target.bpf.o")?;
/// target.program_mut("xdp_main").unwrap().load()?;
/// let target_fd = target.program("xdp_main").unwrap().fd()?;
///
/// // SEC("freplace/check_packet") int replacement(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Extension = bpf.program_mut("replacement").unwrap().try_into()?;
/// program.load(target_fd.as_fd(), "check_packet")?; // replaces that function of xdp_main
/// program.attach()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Extension = TypedProgram<ExtensionKind>;

/// The kind of [`Extension`] programs.
#[derive(Debug)]
pub enum ExtensionKind {}

impl ProgramKind for ExtensionKind {
    type Link = ExtensionLink;

    /// An extension needs its target program: [`Extension::load`] takes it.
    fn load(program: &mut Extension) -> Result<(), ProgramError> {
        Err(ExtensionError::NeedsTarget {
            program: program.data.name().to_owned(),
        }
        .into())
    }
}

impl Extension {
    /// The function named in the section (`freplace/<function>`).
    pub fn section_function(&self) -> Option<&str> {
        match self.data.section() {
            Some(ProgramSection::Extension { function }) => function.as_deref(),
            _ => None,
        }
    }

    /// Loads the program to replace `function` of the loaded program `target`.
    pub fn load(&mut self, target: BorrowedFd<'_>, function: &str) -> Result<(), ProgramError> {
        let program = self.data.name().to_owned();
        match set_program_target(&mut self.data, target, function) {
            Ok(()) => {}
            Err(ProgramTargetError::Program(e)) => return Err(e),
            Err(ProgramTargetError::WithoutBtf) => {
                return Err(ExtensionError::TargetWithoutBtf { program }.into());
            }
            Err(ProgramTargetError::Btf(reason)) => {
                return Err(ExtensionError::TargetBtf { program, reason }.into());
            }
            Err(ProgramTargetError::FunctionNotFound) => {
                return Err(ExtensionError::FunctionNotFound {
                    program,
                    function: function.to_owned(),
                }
                .into());
            }
        }
        self.data.load()
    }

    /// Replaces the function chosen at load.
    pub fn attach(&mut self) -> Result<ExtensionLinkId, ProgramError> {
        let link = attach_tracing(&self.data, 0, 0)?;
        Ok(self.data.links.insert(ExtensionLink::new(link)))
    }
}
