//! `fentry/<function>`: runs at the entry of a kernel function, with typed arguments.

use bpf_sys::generated::bpf_attach_type;

pub use super::btf_target::FEntryError;
use super::btf_target::{FunctionTracerKind, load_section_function};
use super::error::ProgramError;
use super::links::{FdLink, define_link_wrapper};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A [`FEntry`] attachment.
    FEntryLink,
    FEntryLinkId,
    FdLink
);

/// An `fentry` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::FEntry;
///
/// // SEC("fentry/tcp_connect") int on_connect(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut FEntry = bpf.program_mut("on_connect").unwrap().try_into()?;
/// program.load()?; // or load_target("another_function")
/// program.attach(0)?; // with a BPF cookie of 0
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type FEntry = TypedProgram<FEntryKind>;

/// The kind of [`FEntry`] programs.
#[derive(Debug)]
pub enum FEntryKind {}

impl ProgramKind for FEntryKind {
    type Link = FEntryLink;

    fn load(program: &mut FEntry) -> Result<(), ProgramError> {
        load_section_function(program)
    }
}

impl LoadWithoutArguments for FEntryKind {}

impl FunctionTracerKind for FEntryKind {
    const ATTACH_TYPE: bpf_attach_type::Type = bpf_attach_type::BPF_TRACE_FENTRY;
}

impl FEntry {
    /// Attaches at the function chosen at load; `cookie` is what `bpf_get_attach_cookie()`
    /// returns (0: none).
    pub fn attach(&mut self, cookie: u64) -> Result<FEntryLinkId, ProgramError> {
        self.attach_function(cookie)
    }
}
