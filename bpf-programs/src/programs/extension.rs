//! `freplace/<function>`: replaces a global function of another loaded program (which must
//! have been loaded with BTF).

use std::os::fd::{AsFd, BorrowedFd};

use bpf_sys::ids::{ObjectKind, fd_by_id};
use bpf_sys::info::{btf_data, prog_info};

use super::btf_target::attach_tracing;
use super::kernel_btf::{KIND_FUNC, KernelBtf};
use super::links::{FdLink, define_link_wrapper};
use super::{DefaultLoad, ProgramData, ProgramError, ProgramSection, impl_program_common};

/// Why an extension could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    #[error("program `{program}`: the target program has no BTF (it must be loaded with BTF)")]
    TargetWithoutBtf { program: String },
    #[error("program `{program}`: the target program has no function `{function}`")]
    FunctionNotFound { program: String, function: String },
    #[error("program `{program}`: reading the target's BTF: {reason}")]
    TargetBtf { program: String, reason: String },
    #[error("program `{program}` needs a target: use Extension::load(target_fd, function)")]
    NeedsTarget { program: String },
}

define_link_wrapper!(
    /// A freplace attachment.
    ExtensionLink,
    ExtensionLinkId,
    FdLink
);

/// An `freplace` (extension) program.
#[derive(Debug)]
pub struct Extension {
    pub(crate) data: ProgramData<ExtensionLink>,
}

impl Extension {
    pub(crate) fn new(data: ProgramData<ExtensionLink>) -> Self {
        Extension { data }
    }

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
        let info = prog_info(target).map_err(self.data.syscall_error("target program info"))?;
        if info.info.btf_id == 0 {
            return Err(ExtensionError::TargetWithoutBtf { program }.into());
        }
        let btf_fd = fd_by_id(ObjectKind::Btf, info.info.btf_id, 0)
            .map_err(self.data.syscall_error("target program BTF"))?;
        let data = btf_data(btf_fd.as_fd()).map_err(self.data.syscall_error("target BTF data"))?;
        let btf = KernelBtf::parse(&data, None).map_err(|reason| ExtensionError::TargetBtf {
            program: program.clone(),
            reason,
        })?;
        let btf_id =
            btf.find(function, KIND_FUNC)
                .ok_or_else(|| ExtensionError::FunctionNotFound {
                    program: program.clone(),
                    function: function.to_owned(),
                })?;
        let target = target
            .try_clone_to_owned()
            .map_err(|source| ProgramError::Io {
                what: format!("program `{program}`: duplicating the target fd"),
                source,
            })?;
        self.data.attach_btf_id = Some(btf_id);
        self.data.attach_prog_fd = Some(target);
        self.data.load()
    }

    /// Replaces the function chosen at load.
    pub fn attach(&mut self) -> Result<ExtensionLinkId, ProgramError> {
        let fd = self.data.fd()?;
        let link = attach_tracing(fd.as_fd(), 0, 0)?;
        Ok(self.data.links.insert(ExtensionLink::new(link)))
    }
}

impl DefaultLoad for Extension {
    fn load_default(&mut self) -> Result<(), ProgramError> {
        Err(ExtensionError::NeedsTarget {
            program: self.data.name().to_owned(),
        }
        .into())
    }
}

impl_program_common!(Extension, ExtensionLink);
