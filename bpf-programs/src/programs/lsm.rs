//! `lsm/<hook>`: BPF LSM programs (need `bpf` in the kernel's `lsm=` list).

use bpf_sys::generated::bpf_attach_type;

use bpf_core::btf::BtfKind;

use super::btf_target::{attach_tracing, load_for_target};
use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::LsmError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};

define_link_wrapper!(
    /// An LSM attachment.
    LsmLink,
    LsmLinkId,
    FdLink
);

/// An `lsm` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Lsm;
///
/// // SEC("lsm/file_open") int on_file_open(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Lsm = bpf.program_mut("on_file_open").unwrap().try_into()?;
/// program.load()?;
/// program.attach()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Lsm = TypedProgram<LsmKind>;

/// The kind of [`Lsm`] programs.
#[derive(Debug)]
pub enum LsmKind {}

impl ProgramKind for LsmKind {
    type Link = LsmLink;

    /// Loads the program for the hook named in its section.
    fn load(program: &mut Lsm) -> Result<(), ProgramError> {
        let hook = match program.data.section() {
            Some(ProgramSection::Lsm {
                hook: Some(hook), ..
            }) => hook.clone(),
            _ => {
                return Err(LsmError::NoTarget {
                    program: program.data.name().to_owned(),
                }
                .into());
            }
        };
        program.load_hook(&hook)
    }
}

impl LoadWithoutArguments for LsmKind {}

impl Lsm {
    /// Loads the program for LSM hook `hook` (e.g. `file_open`).
    pub fn load_hook(&mut self, hook: &str) -> Result<(), ProgramError> {
        let program = self.data.name().to_owned();
        load_for_target(
            &mut self.data,
            &format!("bpf_lsm_{hook}"),
            BtfKind::Func,
            || {
                LsmError::HookNotFound {
                    program,
                    hook: hook.to_owned(),
                }
                .into()
            },
        )
    }

    /// Attaches at the hook chosen at load.
    pub fn attach(&mut self) -> Result<LsmLinkId, ProgramError> {
        let link = attach_tracing(&self.data, bpf_attach_type::BPF_LSM_MAC, 0)?;
        Ok(self.data.links.insert(LsmLink::new(link)))
    }
}
