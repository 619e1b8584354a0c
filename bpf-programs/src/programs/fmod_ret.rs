//! `fmod_ret/<function>`: runs before an error-injectable kernel function and may replace its
//! return value.

use bpf_sys::generated::bpf_attach_type;

use super::btf_target::{FunctionTracerKind, load_section_function};
use super::error::ProgramError;
use super::links::{FdLink, define_link_wrapper};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A [`FModRet`] attachment.
    FModRetLink,
    FModRetLinkId,
    FdLink
);

/// An `fmod_ret` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::FModRet;
///
/// // SEC("fmod_ret/security_file_open") int override(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut FModRet = bpf.program_mut("override").unwrap().try_into()?;
/// program.load()?; // or load_target("another_function")
/// program.attach(0)?; // with a BPF cookie of 0
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type FModRet = TypedProgram<FModRetKind>;

/// The kind of [`FModRet`] programs.
#[derive(Debug)]
pub enum FModRetKind {}

impl ProgramKind for FModRetKind {
    type Link = FModRetLink;

    fn load(program: &mut FModRet) -> Result<(), ProgramError> {
        load_section_function(program)
    }
}

impl LoadWithoutArguments for FModRetKind {}

impl FunctionTracerKind for FModRetKind {
    const ATTACH_TYPE: bpf_attach_type::Type = bpf_attach_type::BPF_MODIFY_RETURN;
}

impl FModRet {
    /// Attaches at the function chosen at load; `cookie` is what `bpf_get_attach_cookie()`
    /// returns (0: none).
    pub fn attach(&mut self, cookie: u64) -> Result<FModRetLinkId, ProgramError> {
        self.attach_function(cookie)
    }
}
