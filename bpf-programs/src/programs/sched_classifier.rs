//! tc classifiers (`tc`, `classifier`, `tcx/ingress|egress`): packets at an interface's ingress
//! or egress, before the qdisc.
//!
//! Attaches with a TCX link where the kernel has them, else as a direct-action `cls_bpf` filter
//! on the clsact qdisc via rtnetlink.

use std::os::fd::AsFd;

use bpf_sys::attach::Relative;
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::tc::{
    TcAttachPoint, TcFilterAttr, qdisc_add_clsact as sys_qdisc_add_clsact, qdisc_del_clsact,
    tc_filter_add, tc_filter_del,
};

use super::ProgramError;
pub use super::attach_options::TcAttachType;
use super::links::{Attachment, Detach, FdLink, define_link_wrapper};
use super::netns_anchor::NetnsAnchor;
use super::prog_attach_link::{LinkSupport, link_unsupported};
pub use super::type_errors::TcError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

/// How [`SchedClassifier::attach_with_options`] attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TcAttachOptions {
    /// TCX link if the kernel has them, else a netlink filter with kernel-chosen priority/handle.
    #[default]
    Auto,
    /// Only a TCX link.
    Tcx,
    /// Only a `cls_bpf` filter (the clsact qdisc is added if missing); 0 lets the kernel choose.
    Netlink {
        /// Filter priority.
        priority: u16,
        /// Filter handle.
        handle: u32,
    },
}

/// Where a `cls_bpf` filter sits (network namespace, interface, parent, priority, handle),
/// which its detach names.
#[derive(Debug)]
pub struct NetlinkTcFilter {
    netns: NetnsAnchor,
    ifindex: u32,
    attach_point: TcAttachPoint,
    priority: u16,
    handle: u32,
}

impl NetlinkTcFilter {
    /// The filter's priority.
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// The filter's handle.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }
}

impl Detach for NetlinkTcFilter {
    fn detach_now(&mut self) -> Result<(), ProgramError> {
        self.netns
            .run(|| tc_filter_del(self.ifindex, self.attach_point, self.priority, self.handle))
            .map_err(ProgramError::syscall("deleting the tc filter"))
    }
}

/// A `cls_bpf` filter; dropping it deletes the filter.
pub type NetlinkTcLink = Attachment<NetlinkTcFilter>;

/// How a classifier is attached.
#[derive(Debug)]
pub enum SchedClassifierLinkInner {
    /// A TCX `bpf_link`.
    Tcx(FdLink),
    /// A netlink `cls_bpf` filter.
    Netlink(NetlinkTcLink),
}

impl SchedClassifierLinkInner {
    /// Detaches now.
    pub fn detach(self) -> Result<(), ProgramError> {
        match self {
            SchedClassifierLinkInner::Tcx(link) => link.detach(),
            SchedClassifierLinkInner::Netlink(link) => link.detach(),
        }
    }
}

define_link_wrapper!(
    /// A classifier attachment.
    SchedClassifierLink,
    SchedClassifierLinkId,
    SchedClassifierLinkInner
);

/// Whether this kernel has TCX links (learnt on first attach).
static TCX_LINKS: LinkSupport = LinkSupport::new();

/// Adds the clsact qdisc to `ifname` (netlink filters need it); already present is fine.
pub fn qdisc_add_clsact(ifname: &str) -> Result<(), ProgramError> {
    let ifindex = interface_index(ifname)?;
    ensure_clsact(ifindex)
}

/// Removes the clsact qdisc of `ifname`, and every filter on it.
pub fn qdisc_remove_clsact(ifname: &str) -> Result<(), ProgramError> {
    let ifindex = interface_index(ifname)?;
    qdisc_del_clsact(ifindex).map_err(|source| TcError::Qdisc { ifindex, source }.into())
}

fn ensure_clsact(ifindex: u32) -> Result<(), ProgramError> {
    match sys_qdisc_add_clsact(ifindex) {
        Err(e) if e.errno() != Some(libc::EEXIST) => {
            Err(TcError::Qdisc { ifindex, source: e }.into())
        }
        _ => Ok(()),
    }
}

fn interface_index(name: &str) -> Result<u32, ProgramError> {
    if_nametoindex(name).map_err(|source| {
        TcError::InterfaceNotFound {
            name: name.to_owned(),
            source,
        }
        .into()
    })
}

/// A `sched_cls` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SchedClassifier;
/// use bpf_programs::programs::TcAttachType;
///
/// // SEC("tc") int classify(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SchedClassifier = bpf.program_mut("classify").unwrap().try_into()?;
/// program.load()?;
/// program.attach("eth0", TcAttachType::Ingress)?; // TCX where the kernel has it, else clsact
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SchedClassifier = TypedProgram<SchedClassifierKind>;

/// The kind of [`SchedClassifier`] programs.
#[derive(Debug)]
pub enum SchedClassifierKind {}

impl ProgramKind for SchedClassifierKind {
    type Link = SchedClassifierLink;
}

impl LoadWithoutArguments for SchedClassifierKind {}

impl SchedClassifier {
    /// Attaches at `attach_type` of interface `ifname` (calling thread's network namespace).
    ///
    /// An interface runs several classifiers: a second attach adds another (TCX: after the
    /// others; netlink: a new filter with a kernel-chosen priority and handle), and each link
    /// detaches its own. The same program twice on one TCX hook is refused with
    /// [`ProgramError::AlreadyAttached`]; a netlink filter at a priority and handle already in use
    /// with [`ProgramError::AttachPointBusy`].
    pub fn attach(
        &mut self,
        ifname: &str,
        attach_type: TcAttachType,
    ) -> Result<SchedClassifierLinkId, ProgramError> {
        self.attach_with_options(ifname, attach_type, TcAttachOptions::Auto)
    }

    /// Like [`attach`](Self::attach), choosing TCX or netlink (with priority and handle).
    pub fn attach_with_options(
        &mut self,
        ifname: &str,
        attach_type: TcAttachType,
        options: TcAttachOptions,
    ) -> Result<SchedClassifierLinkId, ProgramError> {
        let ifindex = interface_index(ifname)?;
        let tcx_type = attach_type.tcx();
        match options {
            TcAttachOptions::Tcx => {
                let tcx_type = tcx_type.ok_or(TcError::TcxNeedsIngressOrEgress { attach_type })?;
                let link = self.tcx_link(ifindex, tcx_type)?;
                Ok(self.data.links.insert(SchedClassifierLink::new(link)))
            }
            TcAttachOptions::Netlink { priority, handle } => {
                self.attach_filter(ifindex, attach_type, priority, handle)
            }
            TcAttachOptions::Auto => match tcx_type {
                Some(tcx_type) if !TCX_LINKS.known_unsupported() => {
                    match self.tcx_link(ifindex, tcx_type) {
                        Ok(link) => {
                            TCX_LINKS.learn(true);
                            Ok(self.data.links.insert(SchedClassifierLink::new(link)))
                        }
                        Err(ProgramError::Tc(TcError::TcxAttach { source, .. }))
                            if link_unsupported(source.errno()) =>
                        {
                            let id = self.attach_filter(ifindex, attach_type, 0, 0)?;
                            TCX_LINKS.learn(false);
                            Ok(id)
                        }
                        Err(e) => Err(e),
                    }
                }
                _ => self.attach_filter(ifindex, attach_type, 0, 0),
            },
        }
    }

    fn tcx_link(
        &self,
        ifindex: u32,
        attach_type: bpf_attach_type::Type,
    ) -> Result<SchedClassifierLinkInner, ProgramError> {
        let prog_fd = self.data.fd()?;
        let fd = link_create(&LinkCreateAttr {
            prog_fd: prog_fd.as_fd(),
            target: LinkTarget::Ifindex(ifindex),
            attach_type,
            flags: 0,
            kind: LinkKind::Tcx {
                relative: Relative::None,
                expected_revision: 0,
            },
        })
        .map_err(|source| {
            if source.errno() == Some(libc::EEXIST) {
                return ProgramError::AlreadyAttached {
                    program: self.data.name().to_owned(),
                    target: format!("the TCX hook of interface {ifindex}"),
                    source: Some(source),
                };
            }
            TcError::TcxAttach {
                program: self.data.name().to_owned(),
                ifindex,
                source,
            }
            .into()
        })?;
        Ok(SchedClassifierLinkInner::Tcx(FdLink::new(fd)))
    }

    fn attach_filter(
        &mut self,
        ifindex: u32,
        attach_type: TcAttachType,
        priority: u16,
        handle: u32,
    ) -> Result<SchedClassifierLinkId, ProgramError> {
        if matches!(attach_type, TcAttachType::Ingress | TcAttachType::Egress) {
            ensure_clsact(ifindex)?;
        }
        let prog_fd = self.data.fd()?;
        let attach_point = attach_type.point();
        let id = tc_filter_add(&TcFilterAttr {
            ifindex,
            attach_point,
            prog_fd: prog_fd.as_fd(),
            name: self.data.name(),
            priority,
            handle,
            replace: false,
        })
        .map_err(|source| -> ProgramError {
            if source.errno() == Some(libc::EEXIST) {
                return ProgramError::AttachPointBusy {
                    program: self.data.name().to_owned(),
                    target: format!("interface {ifindex} ({attach_type:?})"),
                    occupant: format!("a filter with priority {priority} and handle {handle:#x}"),
                    source: Some(source),
                };
            }
            TcError::FilterAttach {
                program: self.data.name().to_owned(),
                ifindex,
                source,
            }
            .into()
        })?;
        let inner = SchedClassifierLinkInner::Netlink(Attachment::new(NetlinkTcFilter {
            netns: NetnsAnchor::current(),
            ifindex,
            attach_point,
            priority: id.priority,
            handle: id.handle,
        }));
        Ok(self.data.links.insert(SchedClassifierLink::new(inner)))
    }
}
