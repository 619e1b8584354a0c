//! `syscall` programs: run from user space with `BPF_PROG_TEST_RUN` (they may call bpf(2)).

use super::ProgramError;
use super::links::{FdLink, define_link_wrapper};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// Never created: syscall programs do not attach.
    SyscallLink,
    SyscallLinkId,
    FdLink
);

/// A `syscall` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Syscall;
///
/// // SEC("syscall") int setup(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Syscall = bpf.program_mut("setup").unwrap().try_into()?;
/// program.load()?;
/// let returned = program.run(&[0u8; 16])?; // the context it reads
/// println!("returned {returned}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Syscall = TypedProgram<SyscallKind>;

/// The kind of [`Syscall`] programs.
#[derive(Debug)]
pub enum SyscallKind {}

impl ProgramKind for SyscallKind {
    type Link = SyscallLink;
}

impl LoadWithoutArguments for SyscallKind {}

impl Syscall {
    /// Runs the program once with `ctx` as its context and returns its return value; to read
    /// the context the program wrote, use [`test_run`](Self::test_run) with a `context_out`.
    pub fn run(&self, ctx: &[u8]) -> Result<u32, ProgramError> {
        let output = self.test_run(super::TestRunOptions::new().context(ctx))?;
        Ok(output.return_value)
    }
}
