//! `fexit/<function>`: runs when a kernel function returns, with arguments and return value.

use bpf_sys::generated::bpf_attach_type;

use super::btf_target::{FunctionTracerKind, load_section_function};
use super::error::ProgramError;
use super::links::{FdLink, define_link_wrapper};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A [`FExit`] attachment.
    FExitLink,
    FExitLinkId,
    FdLink
);

/// An `fexit` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::FExit;
///
/// // SEC("fexit/tcp_connect") int on_connect_done(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut FExit = bpf.program_mut("on_connect_done").unwrap().try_into()?;
/// program.load()?; // or load_target("another_function")
/// program.attach(0)?; // with a BPF cookie of 0
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type FExit = TypedProgram<FExitKind>;

/// The kind of [`FExit`] programs.
#[derive(Debug)]
pub enum FExitKind {}

impl ProgramKind for FExitKind {
    type Link = FExitLink;

    fn load(program: &mut FExit) -> Result<(), ProgramError> {
        load_section_function(program)
    }
}

impl LoadWithoutArguments for FExitKind {}

impl FunctionTracerKind for FExitKind {
    const ATTACH_TYPE: bpf_attach_type::Type = bpf_attach_type::BPF_TRACE_FEXIT;
}

impl FExit {
    /// Attaches at the function chosen at load; `cookie` is what `bpf_get_attach_cookie()`
    /// returns (0: none).
    pub fn attach(&mut self, cookie: u64) -> Result<FExitLinkId, ProgramError> {
        self.attach_function(cookie)
    }
}
