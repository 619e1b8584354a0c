//! netkit programs (`netkit/primary`, `netkit/peer`): `sched_cls` programs run when a side of a
//! netkit device pair (Linux 6.7+) transmits, attached with a netkit `bpf_link`.
//!
//! Both sides' programs attach through the primary device's interface: `Primary` runs on what
//! the primary sends, `Peer` on what the peer (usually inside a container) sends. Several
//! programs can share a side; [`LinkOrder`] places one among them, like TCX.
//!
//! Kernels without netkit refuse the attach with `ProgramError::NotSupported { feature:
//! "netkit links" }`; netkit-specific failures are `ProgramError::Netkit(NetkitError)`.

use std::os::fd::{AsFd, BorrowedFd};

use bpf_sys::attach::{AttachTarget, ProgQuery, Relative, prog_query};
use bpf_sys::flags::map::BPF_F_LINK;
use bpf_sys::generated::{BPF_F_AFTER, BPF_F_BEFORE, BPF_F_ID};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::netlink::if_nametoindex;

pub use super::attach_options::NetkitAttachType;
use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::NetkitError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};

/// An already attached program or link that [`LinkOrder`] places a new program next to.
#[derive(Debug, Clone, Copy)]
pub enum LinkAnchor<'a> {
    /// A program, by fd.
    Program(BorrowedFd<'a>),
    /// A program, by kernel id.
    ProgramId(u32),
    /// A link, by fd.
    Link(BorrowedFd<'a>),
    /// A link, by kernel id.
    LinkId(u32),
}

impl<'a> LinkAnchor<'a> {
    /// `BPF_F_LINK`/`BPF_F_ID` for the link-create flags, and the `relative_fd`/id.
    fn raw(self) -> (u32, Relative<'a>) {
        match self {
            LinkAnchor::Program(fd) => (0, Relative::Fd(fd)),
            LinkAnchor::ProgramId(id) => (BPF_F_ID, Relative::Id(id)),
            LinkAnchor::Link(fd) => (BPF_F_LINK, Relative::Fd(fd)),
            LinkAnchor::LinkId(id) => (BPF_F_LINK | BPF_F_ID, Relative::Id(id)),
        }
    }
}

/// Where a new program goes among those already attached to the same side.
#[derive(Debug, Clone, Copy, Default)]
pub enum LinkOrder<'a> {
    /// After all others.
    #[default]
    Last,
    /// Before all others.
    First,
    /// Right before the anchor.
    Before(LinkAnchor<'a>),
    /// Right after the anchor.
    After(LinkAnchor<'a>),
}

impl<'a> LinkOrder<'a> {
    /// The link-create flags and the anchor.
    fn raw(self) -> (u32, Relative<'a>) {
        match self {
            LinkOrder::Last => (0, Relative::None),
            LinkOrder::First => (BPF_F_BEFORE, Relative::None),
            LinkOrder::Before(anchor) => {
                let (flags, relative) = anchor.raw();
                (BPF_F_BEFORE | flags, relative)
            }
            LinkOrder::After(anchor) => {
                let (flags, relative) = anchor.raw();
                (BPF_F_AFTER | flags, relative)
            }
        }
    }
}

/// How [`Netkit::attach_with_options`] attaches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetkitAttachOptions<'a> {
    /// Position among the side's programs.
    pub order: LinkOrder<'a>,
    /// Attach only if the side's revision (see [`query`]) is still this; 0 skips the check.
    pub expected_revision: u64,
}

define_link_wrapper!(
    /// A netkit program's attachment to one side of a pair.
    NetkitLink,
    NetkitLinkId,
    FdLink
);

fn interface_index(name: &str) -> Result<u32, NetkitError> {
    if_nametoindex(name).map_err(|source| NetkitError::InterfaceNotFound {
        name: name.to_owned(),
        source,
    })
}

/// The programs attached to `attach_type`'s side of netkit pair `interface` (the primary),
/// in order, and the revision [`NetkitAttachOptions::expected_revision`] checks.
pub fn query(interface: &str, attach_type: NetkitAttachType) -> Result<ProgQuery, NetkitError> {
    let ifindex = interface_index(interface)?;
    prog_query(AttachTarget::Ifindex(ifindex), attach_type.attach_type(), 0).map_err(|source| {
        NetkitError::Query {
            name: interface.to_owned(),
            source,
        }
    })
}

/// A `netkit/primary` or `netkit/peer` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Netkit;
///
/// // SEC("netkit/primary") int primary(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Netkit = bpf.program_mut("primary").unwrap().try_into()?;
/// program.load()?;
/// program.attach_default("nk0")?; // the side its section names, on a netkit device
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Netkit = TypedProgram<NetkitKind>;

/// The kind of [`Netkit`] programs.
#[derive(Debug)]
pub enum NetkitKind {}

impl ProgramKind for NetkitKind {
    type Link = NetkitLink;
}

impl LoadWithoutArguments for NetkitKind {}

impl Netkit {
    /// The side its section names (`netkit/peer` → `Peer`); `None` when opened from a pin.
    pub fn default_attach_type(&self) -> Option<NetkitAttachType> {
        match self.data.section()? {
            ProgramSection::Netkit { attach_type } => {
                NetkitAttachType::from_attach_type(*attach_type)
            }
            _ => None,
        }
    }

    /// Attaches to the side its section names, through primary device `interface`.
    pub fn attach_default(&mut self, interface: &str) -> Result<NetkitLinkId, ProgramError> {
        let attach_type =
            self.default_attach_type()
                .ok_or_else(|| NetkitError::NoDefaultAttachType {
                    program: self.data.name().to_owned(),
                })?;
        self.attach(interface, attach_type)
    }

    /// Attaches, after the side's other programs, through primary device `interface` (in the
    /// calling thread's network namespace).
    pub fn attach(
        &mut self,
        interface: &str,
        attach_type: NetkitAttachType,
    ) -> Result<NetkitLinkId, ProgramError> {
        self.attach_with_options(interface, attach_type, NetkitAttachOptions::default())
    }

    /// Like [`attach`](Self::attach), placed by `options.order` and checking the revision.
    pub fn attach_with_options(
        &mut self,
        interface: &str,
        attach_type: NetkitAttachType,
        options: NetkitAttachOptions<'_>,
    ) -> Result<NetkitLinkId, ProgramError> {
        let ifindex = interface_index(interface)?;
        let prog_fd = self.data.fd()?;
        let (flags, relative) = options.order.raw();
        let anchored = !matches!(relative, Relative::None);
        let fd = link_create(&LinkCreateAttr {
            prog_fd: prog_fd.as_fd(),
            target: LinkTarget::Ifindex(ifindex),
            attach_type: attach_type.attach_type(),
            flags,
            kind: LinkKind::Netkit {
                relative,
                expected_revision: options.expected_revision,
            },
        })
        .map_err(|source| {
            let name = interface.to_owned();
            match source.errno() {
                // Kernels without netkit (before 6.7, or CONFIG_NETKIT off) know no such attach
                // type; with netkit, EINVAL only comes from a bad anchor.
                Some(libc::EINVAL) if !anchored => {
                    return ProgramError::NotSupported {
                        feature: "netkit links",
                    };
                }
                Some(libc::ENXIO) => NetkitError::NotNetkit { name },
                Some(libc::EACCES) => NetkitError::NotPrimary { name },
                Some(libc::ESTALE) => NetkitError::StaleRevision {
                    name,
                    expected_revision: options.expected_revision,
                },
                _ => NetkitError::Attach {
                    program: self.data.name().to_owned(),
                    name,
                    attach_type,
                    source,
                },
            }
            .into()
        })?;
        Ok(self.data.links.insert(NetkitLink::new(FdLink::new(fd))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_sys::generated::bpf_attach_type;

    #[test]
    fn order_sets_the_anchor_flags() {
        assert_eq!(LinkOrder::Last.raw().0, 0);
        assert_eq!(LinkOrder::First.raw().0, BPF_F_BEFORE);
        let (flags, relative) = LinkOrder::After(LinkAnchor::LinkId(7)).raw();
        assert_eq!(flags, BPF_F_AFTER | BPF_F_LINK | BPF_F_ID);
        assert!(matches!(relative, Relative::Id(7)));
        let (flags, relative) = LinkOrder::Before(LinkAnchor::ProgramId(3)).raw();
        assert_eq!(flags, BPF_F_BEFORE | BPF_F_ID);
        assert!(matches!(relative, Relative::Id(3)));
    }

    #[test]
    fn attach_types_round_trip() {
        for side in [NetkitAttachType::Primary, NetkitAttachType::Peer] {
            assert_eq!(
                NetkitAttachType::from_attach_type(side.attach_type()),
                Some(side)
            );
        }
        assert_eq!(
            NetkitAttachType::from_attach_type(bpf_attach_type::BPF_TCX_INGRESS),
            None
        );
    }
}
