//! Tracepoints (`tracepoint/<category>/<name>`): perf events of type `PERF_TYPE_TRACEPOINT`.

use std::os::fd::AsFd;

use bpf_sys::generated::perf_type_id;
use bpf_sys::perf_event::{PerfEventAttr, PerfEventFlags, perf_event_open, tracepoint_id};

use super::links::define_link_wrapper;
use super::perf_attach::{PerfLinkInner, PerfTarget, perf_attach};
pub use super::type_errors::TracePointError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};
use crate::kernel::fs::tracefs;

define_link_wrapper!(
    /// A tracepoint attachment.
    TracePointLink,
    TracePointLinkId,
    PerfLinkInner
);

/// A `tracepoint` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::TracePoint;
///
/// // SEC("tracepoint/sched/sched_process_exec") int on_exec(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut TracePoint = bpf.program_mut("on_exec").unwrap().try_into()?;
/// program.load()?;
/// program.attach("sched", "sched_process_exec")?; // tracefs is mounted if it is not
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type TracePoint = TypedProgram<TracePointKind>;

/// The kind of [`TracePoint`] programs.
#[derive(Debug)]
pub enum TracePointKind {}

impl ProgramKind for TracePointKind {
    type Link = TracePointLink;
}

impl LoadWithoutArguments for TracePointKind {}

impl TracePoint {
    /// Attaches to `category/name` (e.g. `syscalls`, `sys_enter_getpid`), on every CPU.
    ///
    /// The kernel runs a program once per tracepoint: attaching it again while attached is
    /// refused with [`ProgramError::AlreadyAttached`] (other programs may attach alongside).
    pub fn attach(&mut self, category: &str, name: &str) -> Result<TracePointLinkId, ProgramError> {
        let tracefs = tracefs().map_err(|source| TracePointError::TraceFs {
            program: self.data.name().to_owned(),
            category: category.to_owned(),
            name: name.to_owned(),
            source,
        })?;
        let id =
            tracepoint_id(tracefs, category, name).map_err(|source| TracePointError::NotFound {
                program: self.data.name().to_owned(),
                category: category.to_owned(),
                name: name.to_owned(),
                tracefs: tracefs.to_owned(),
                source,
            })?;
        let attr = PerfEventAttr {
            type_: perf_type_id::PERF_TYPE_TRACEPOINT,
            config: id,
            sample: 1,
            wakeup: 1,
            flags: PerfEventFlags::DISABLED,
            ..Default::default()
        };
        let perf_fd = perf_event_open(&attr, -1, 0, None, 0)
            .map_err(self.data.syscall_error("perf_event_open (tracepoint)"))?;
        let prog_fd = self.data.fd()?;
        let target = PerfTarget {
            program: self.data.name(),
            event: &|| format!("tracepoint `{category}/{name}`"),
        };
        let inner = perf_attach(target, prog_fd.as_fd(), perf_fd, 0)?;
        Ok(self.data.links.insert(TracePointLink::new(inner)))
    }

    /// Attaches to the tracepoint named in the section (`tracepoint/<category>/<name>`).
    pub fn attach_default(&mut self) -> Result<TracePointLinkId, ProgramError> {
        let target = match self.data.section() {
            Some(ProgramSection::TracePoint {
                target: Some(target),
            }) => target.clone(),
            _ => {
                return Err(TracePointError::NoTarget {
                    program: self.data.name().to_owned(),
                }
                .into());
            }
        };
        self.attach(&target.category, &target.name)
    }
}
