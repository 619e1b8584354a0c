//! Raw tracepoints (`raw_tracepoint/<name>`, `raw_tp/<name>`): the tracepoint's raw arguments.

use std::os::fd::AsFd;

use bpf_sys::link::raw_tracepoint_open;

use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::RawTracePointError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};

define_link_wrapper!(
    /// A raw tracepoint attachment.
    RawTracePointLink,
    RawTracePointLinkId,
    FdLink
);

/// A `raw_tracepoint` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::RawTracePoint;
///
/// // SEC("raw_tp/sys_enter") int on_syscall(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut RawTracePoint = bpf.program_mut("on_syscall").unwrap().try_into()?;
/// program.load()?;
/// program.attach("sys_enter")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type RawTracePoint = TypedProgram<RawTracePointKind>;

/// The kind of [`RawTracePoint`] programs.
#[derive(Debug)]
pub enum RawTracePointKind {}

impl ProgramKind for RawTracePointKind {
    type Link = RawTracePointLink;
}

impl LoadWithoutArguments for RawTracePointKind {}

impl RawTracePoint {
    /// Attaches to tracepoint `name` (e.g. `sys_enter`).
    ///
    /// Each attach is its own link: recent kernels let the same program attach twice (it then
    /// runs twice); older ones, such as 6.1, refuse the second with
    /// [`ProgramError::AlreadyAttached`].
    pub fn attach(&mut self, name: &str) -> Result<RawTracePointLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let fd = raw_tracepoint_open(Some(name), prog_fd.as_fd(), 0).map_err(|e| {
            if e.errno() == Some(libc::ENOENT) {
                ProgramError::from(RawTracePointError::NotFound {
                    program: self.data.name().to_owned(),
                    name: name.to_owned(),
                })
            } else if e.errno() == Some(libc::EEXIST) {
                ProgramError::AlreadyAttached {
                    program: self.data.name().to_owned(),
                    target: format!("raw tracepoint `{name}`"),
                    source: Some(e),
                }
            } else {
                self.data.syscall_error("raw tracepoint open")(e)
            }
        })?;
        Ok(self
            .data
            .links
            .insert(RawTracePointLink::new(FdLink::new(fd))))
    }

    /// Attaches to the tracepoint named in the section (`raw_tp/<name>`).
    pub fn attach_default(&mut self) -> Result<RawTracePointLinkId, ProgramError> {
        let name = match self.data.section() {
            Some(ProgramSection::RawTracePoint {
                name: Some(name), ..
            }) => name.clone(),
            _ => {
                return Err(RawTracePointError::NoTarget {
                    program: self.data.name().to_owned(),
                }
                .into());
            }
        };
        self.attach(&name)
    }
}
