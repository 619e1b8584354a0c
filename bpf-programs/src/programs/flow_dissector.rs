//! `flow_dissector`: replaces the kernel's packet parser (flow keys for hashing, RPS, …) in a
//! network namespace.

use std::os::fd::AsFd;

use bpf_sys::attach::AttachTarget;
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};

use super::ProgramError;
use super::links::{FdLink, define_link_wrapper};
use super::prog_attach_link::{
    AttachMethod, LinkOrAttachment, LinkSupport, ProgAttachLink, link_unsupported, refuse_occupied,
};
pub use super::type_errors::FlowDissectorError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A flow dissector attachment to a network namespace.
    FlowDissectorLink,
    FlowDissectorLinkId,
    LinkOrAttachment
);

/// Whether this kernel has netns links for flow dissectors (learnt on first attach).
static NETNS_LINKS: LinkSupport = LinkSupport::new();

/// A `flow_dissector` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::FlowDissector;
///
/// // SEC("flow_dissector") int dissect(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut FlowDissector = bpf.program_mut("dissect").unwrap().try_into()?;
/// program.load()?;
/// let netns = std::fs::File::open("/proc/self/ns/net")?;
/// program.attach(&netns)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type FlowDissector = TypedProgram<FlowDissectorKind>;

/// The kind of [`FlowDissector`] programs.
#[derive(Debug)]
pub enum FlowDissectorKind {}

impl ProgramKind for FlowDissectorKind {
    type Link = FlowDissectorLink;
}

impl LoadWithoutArguments for FlowDissectorKind {}

impl FlowDissector {
    /// Attaches to the network namespace `netns` with a `bpf_link`, falling back to
    /// `BPF_PROG_ATTACH` (which acts on the calling thread's namespace) on older kernels.
    ///
    /// A namespace runs one flow dissector: while one is attached (this program or another,
    /// by either interface), a second attach is refused with
    /// [`ProgramError::AttachPointBusy`] (or [`ProgramError::AlreadyAttached`]).
    pub fn attach(&mut self, netns: impl AsFd) -> Result<FlowDissectorLinkId, ProgramError> {
        self.attach_with_method(netns, AttachMethod::Auto)
    }

    /// Like [`attach`](Self::attach), choosing the kernel interface; `Legacy` ignores `netns`
    /// and attaches to the calling thread's network namespace.
    pub fn attach_with_method(
        &mut self,
        netns: impl AsFd,
        method: AttachMethod,
    ) -> Result<FlowDissectorLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let attach_type = bpf_attach_type::BPF_FLOW_DISSECTOR;
        let try_link = match method {
            AttachMethod::Auto => !NETNS_LINKS.known_unsupported(),
            AttachMethod::Link => true,
            AttachMethod::Legacy => false,
        };
        if try_link {
            match link_create(&LinkCreateAttr {
                prog_fd: prog_fd.as_fd(),
                target: LinkTarget::Fd(netns.as_fd()),
                attach_type,
                flags: 0,
                kind: LinkKind::Plain,
            }) {
                Ok(fd) => {
                    NETNS_LINKS.learn(true);
                    let inner = LinkOrAttachment::Link(FdLink::new(fd));
                    return Ok(self.data.links.insert(FlowDissectorLink::new(inner)));
                }
                Err(e) if method == AttachMethod::Auto && link_unsupported(e.errno()) => {
                    NETNS_LINKS.learn(false);
                }
                // E2BIG: the namespace's one link is taken; EEXIST: a program is attached
                // with BPF_PROG_ATTACH.
                Err(source) if matches!(source.errno(), Some(libc::E2BIG | libc::EEXIST)) => {
                    return Err(ProgramError::AttachPointBusy {
                        program: self.data.name().to_owned(),
                        target: "the network namespace's flow dissector hook".to_owned(),
                        occupant: "a flow dissector attached".to_owned(),
                        source: Some(source),
                    });
                }
                Err(source) => {
                    return Err(FlowDissectorError::Attach {
                        program: self.data.name().to_owned(),
                        source,
                    }
                    .into());
                }
            }
        }
        let own_netns =
            std::fs::File::open("/proc/thread-self/ns/net").map_err(|source| ProgramError::Io {
                what: "opening the thread's network namespace".to_owned(),
                source,
            })?;
        refuse_occupied(
            self.data.name(),
            prog_fd.as_fd(),
            AttachTarget::Fd(own_netns.as_fd()),
            attach_type,
            &|| "the network namespace's flow dissector hook".to_owned(),
        )?;
        let attachment = ProgAttachLink::attach_current_netns(prog_fd.as_fd(), attach_type)
            .map_err(|e| match e.errno() {
                // A link holds the hook.
                Some(libc::EEXIST) => ProgramError::AttachPointBusy {
                    program: self.data.name().to_owned(),
                    target: "the network namespace's flow dissector hook".to_owned(),
                    occupant: "a flow dissector link attached".to_owned(),
                    source: None,
                },
                _ => e.of_program(self.data.name()),
            })?;
        let inner = LinkOrAttachment::Attachment(attachment);
        Ok(self.data.links.insert(FlowDissectorLink::new(inner)))
    }
}
