//! Attaching a program to a perf event fd (tracepoints, kprobes, uprobes, perf events):
//! a `bpf_link` when the kernel has perf links, else `PERF_EVENT_IOC_SET_BPF`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::perf_event::{perf_event_enable, perf_event_set_bpf};

use super::ProgramError;
use super::links::FdLink;
use super::probe_event::ProbeEvent;
use crate::features;
use crate::kernel::permission::{AttachKind, Operation};

/// A program attached to a perf event through the perf ioctls; closing the event detaches it.
#[derive(Debug)]
pub struct PerfIoctlLink {
    perf_fd: OwnedFd,
}

impl PerfIoctlLink {
    /// The perf event fd.
    pub fn perf_fd(&self) -> BorrowedFd<'_> {
        self.perf_fd.as_fd()
    }
}

/// How a perf-event based attachment is held.
#[derive(Debug)]
pub enum PerfLinkInner {
    /// A `bpf_link` over the perf event (it keeps the event alive).
    Fd(FdLink),
    /// The perf event itself, with the program set by ioctl.
    PerfEvent(PerfIoctlLink),
    /// An attachment to a tracefs probe event, which is removed once the attachment is gone.
    ProbeEvent {
        /// The attachment (dropped first: the event cannot be removed while in use).
        link: Box<PerfLinkInner>,
        /// The tracefs event.
        event: ProbeEvent,
    },
}

impl PerfLinkInner {
    /// Detaches the program.
    pub fn detach(self) -> Result<(), ProgramError> {
        drop(self);
        Ok(())
    }
}

impl TryFrom<PerfLinkInner> for FdLink {
    type Error = ProgramError;

    fn try_from(inner: PerfLinkInner) -> Result<FdLink, ProgramError> {
        match inner {
            PerfLinkInner::Fd(link) => Ok(link),
            PerfLinkInner::PerfEvent(_) => Err(ProgramError::NotSupported {
                feature: "bpf_link over perf events (this attachment used the perf ioctl)",
            }),
            PerfLinkInner::ProbeEvent { .. } => Err(ProgramError::NotSupported {
                feature: "a bare bpf_link for a tracefs probe event (the event must go with it)",
            }),
        }
    }
}

/// What a perf event attachment names in its errors: the program, and the event described
/// lazily (only a failure pays for the text).
pub(crate) struct PerfTarget<'a> {
    pub(crate) program: &'a str,
    pub(crate) event: &'a dyn Fn() -> String,
}

impl PerfTarget<'_> {
    /// The kernel runs a program once per event: EEXIST means it is there already.
    fn error(&self, what: &'static str, source: bpf_sys::SyscallError) -> ProgramError {
        if source.errno() == Some(libc::EEXIST) {
            return ProgramError::AlreadyAttached {
                program: self.program.to_owned(),
                target: (self.event)(),
                source: Some(source),
            };
        }
        ProgramError::ProgramSyscall {
            program: self.program.to_owned(),
            what,
            source,
        }
        .explain_denied(|| Operation::Attach(AttachKind::PerfEvent))
    }
}

/// Attaches `prog_fd` to the (enabled or disabled) perf event `perf_fd` and enables it.
///
/// Tracepoints (and tracefs kprobes) share one program list per event among all perf events
/// opened on it: the same program attached twice is refused with
/// [`ProgramError::AlreadyAttached`]. Perf events, PMU kprobes and uprobes get their own event
/// per attach, so attaching twice runs the program twice.
pub(crate) fn perf_attach(
    target: PerfTarget<'_>,
    prog_fd: BorrowedFd<'_>,
    perf_fd: OwnedFd,
    cookie: u64,
) -> Result<PerfLinkInner, ProgramError> {
    if features::perf_link() {
        let link = link_create(&LinkCreateAttr {
            prog_fd,
            target: LinkTarget::Fd(perf_fd.as_fd()),
            attach_type: bpf_attach_type::BPF_PERF_EVENT,
            flags: 0,
            kind: LinkKind::PerfEvent { bpf_cookie: cookie },
        })
        .map_err(|e| target.error("perf event link", e))?;
        perf_event_enable(perf_fd.as_fd()).map_err(|e| target.error("perf event enable", e))?;
        return Ok(PerfLinkInner::Fd(FdLink::new(link)));
    }
    if cookie != 0 {
        return Err(ProgramError::NotSupported {
            feature: "bpf cookies (needs perf event bpf_link)",
        });
    }
    perf_event_set_bpf(perf_fd.as_fd(), prog_fd).map_err(|e| target.error("perf set bpf", e))?;
    perf_event_enable(perf_fd.as_fd()).map_err(|e| target.error("perf event enable", e))?;
    Ok(PerfLinkInner::PerfEvent(PerfIoctlLink { perf_fd }))
}
