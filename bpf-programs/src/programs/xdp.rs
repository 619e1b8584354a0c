//! XDP (`xdp`, `xdp.frags`): packets at the driver (or generic) receive hook of an interface.
//!
//! Attaches with a `bpf_link` where the kernel has XDP links, else through rtnetlink
//! (`IFLA_XDP`); which one works is learnt once per process.

use std::os::fd::{AsFd, OwnedFd};

use bpf_sys::generated::{
    XDP_FLAGS_MODES, XDP_FLAGS_REPLACE, XDP_FLAGS_UPDATE_IF_NOEXIST, bpf_attach_type,
};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create, link_update};
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::xdp::{xdp_attach, xdp_query};

use super::ProgramError;
pub use super::attach_options::XdpFlags;
use super::links::{Attachment, Detach, FdLink, define_link_wrapper};
use super::netns_anchor::NetnsAnchor;
use super::prog_attach_link::{AttachMethod, LinkSupport, link_unsupported};
pub use super::type_errors::XdpError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

/// What an XDP attachment made through rtnetlink holds: its network namespace, interface,
/// mode and a duplicate of the program fd, so that the detach removes the program only if it
/// is still the attached one; closed with the attachment.
#[derive(Debug)]
pub struct NetlinkXdp {
    netns: NetnsAnchor,
    ifindex: u32,
    prog_fd: OwnedFd,
    mode: u32,
}

impl NetlinkXdp {
    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }
}

impl Detach for NetlinkXdp {
    fn detach_now(&mut self) -> Result<(), ProgramError> {
        self.netns
            .run(|| {
                let result = xdp_attach(self.ifindex, None, self.mode, Some(self.prog_fd.as_fd()));
                // Kernels without XDP_FLAGS_REPLACE refuse the expected fd.
                match result {
                    Err(e) if e.errno() == Some(libc::EINVAL) => {
                        xdp_attach(self.ifindex, None, self.mode, None)
                    }
                    other => other,
                }
            })
            .map_err(ProgramError::syscall("netlink XDP detach"))
    }

    /// EEXIST: another program replaced this one (`XdpFlags::REPLACE`); nothing of ours is left.
    fn already_gone(&self, error: &ProgramError) -> bool {
        matches!(error.errno(), Some(libc::ENOENT | libc::EEXIST))
    }
}

/// An XDP program attached through rtnetlink; dropping it removes it if it is still ours.
pub type NetlinkXdpLink = Attachment<NetlinkXdp>;

/// How an XDP program is attached.
#[derive(Debug)]
pub enum XdpLinkInner {
    /// A `bpf_link`.
    Link(FdLink),
    /// An rtnetlink attachment.
    Netlink(NetlinkXdpLink),
}

impl XdpLinkInner {
    /// Detaches now.
    pub fn detach(self) -> Result<(), ProgramError> {
        match self {
            XdpLinkInner::Link(link) => link.detach(),
            XdpLinkInner::Netlink(link) => link.detach(),
        }
    }
}

define_link_wrapper!(
    /// An XDP attachment to an interface.
    XdpLink,
    XdpLinkId,
    XdpLinkInner
);

/// Whether this kernel has XDP links (learnt on first attach).
static XDP_LINKS: LinkSupport = LinkSupport::new();

/// An XDP program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Xdp;
/// use bpf_programs::programs::XdpFlags;
///
/// // SEC("xdp") int filter(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Xdp = bpf.program_mut("filter").unwrap().try_into()?;
/// program.load()?;
/// program.attach("eth0", XdpFlags::default())?; // a bpf_link where the kernel has them
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Xdp = TypedProgram<XdpKind>;

/// The kind of [`Xdp`] programs.
#[derive(Debug)]
pub enum XdpKind {}

impl ProgramKind for XdpKind {
    type Link = XdpLink;
}

impl LoadWithoutArguments for XdpKind {}

impl Xdp {
    /// Attaches to the interface `ifname` of the calling thread's network namespace.
    ///
    /// An interface runs one XDP program per mode: while one is attached (by a link or through
    /// netlink, by this process or another), a second attach is refused with
    /// [`ProgramError::AttachPointBusy`] naming it. To swap programs, use
    /// [`attach_to_link`](Self::attach_to_link), or netlink with [`XdpFlags::REPLACE`], which
    /// replaces whatever is attached.
    pub fn attach(&mut self, ifname: &str, flags: XdpFlags) -> Result<XdpLinkId, ProgramError> {
        self.attach_with_method(ifname, flags, AttachMethod::Auto)
    }

    /// Like [`attach`](Self::attach), choosing between a `bpf_link` and netlink.
    pub fn attach_with_method(
        &mut self,
        ifname: &str,
        flags: XdpFlags,
        method: AttachMethod,
    ) -> Result<XdpLinkId, ProgramError> {
        let ifindex = interface_index(ifname)?;
        self.attach_to_if_index_with_method(ifindex, flags, method)
    }

    /// Attaches to the interface with index `ifindex`.
    pub fn attach_to_if_index(
        &mut self,
        ifindex: u32,
        flags: XdpFlags,
    ) -> Result<XdpLinkId, ProgramError> {
        self.attach_to_if_index_with_method(ifindex, flags, AttachMethod::Auto)
    }

    /// Like [`attach_to_if_index`](Self::attach_to_if_index), choosing the interface.
    pub fn attach_to_if_index_with_method(
        &mut self,
        ifindex: u32,
        flags: XdpFlags,
        method: AttachMethod,
    ) -> Result<XdpLinkId, ProgramError> {
        let netlink_only = flags.intersects(XdpFlags::REPLACE | XdpFlags::UPDATE_IF_NOEXIST);
        if netlink_only && method == AttachMethod::Link {
            return Err(XdpError::FlagsNeedNetlink { flags }.into());
        }
        let try_link = match method {
            AttachMethod::Link => true,
            AttachMethod::Auto => !netlink_only && !XDP_LINKS.known_unsupported(),
            AttachMethod::Legacy => false,
        };
        let prog_fd = self.data.fd()?;
        if try_link {
            match link_create(&LinkCreateAttr {
                prog_fd: prog_fd.as_fd(),
                target: LinkTarget::Ifindex(ifindex),
                attach_type: bpf_attach_type::BPF_XDP,
                flags: flags.bits() & XDP_FLAGS_MODES,
                kind: LinkKind::Plain,
            }) {
                Ok(fd) => {
                    XDP_LINKS.learn(true);
                    let inner = XdpLinkInner::Link(FdLink::new(fd));
                    return Ok(self.data.links.insert(XdpLink::new(inner)));
                }
                Err(e) if method == AttachMethod::Auto && link_unsupported(e.errno()) => {
                    let id = self.attach_netlink(ifindex, flags)?;
                    XDP_LINKS.learn(false);
                    return Ok(id);
                }
                Err(source) if occupied(source.errno()) => {
                    return Err(busy(self.data.name(), ifindex, source));
                }
                Err(source) => {
                    return Err(XdpError::LinkAttach {
                        program: self.data.name().to_owned(),
                        ifindex,
                        source,
                    }
                    .into());
                }
            }
        }
        self.attach_netlink(ifindex, flags)
    }

    fn attach_netlink(&mut self, ifindex: u32, flags: XdpFlags) -> Result<XdpLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let netlink_error = |source| XdpError::NetlinkAttach {
            program: self.data.name().to_owned(),
            ifindex,
            source,
        };
        let dup = prog_fd
            .as_fd()
            .try_clone_to_owned()
            .map_err(|source| ProgramError::Io {
                what: "duplicating the program fd".to_owned(),
                source,
            })?;
        // Replacing whatever is attached only when asked to: else the earlier attachment's
        // detach would remove this program.
        let attach_flags = if flags.contains(XdpFlags::REPLACE) {
            flags.bits() & !XDP_FLAGS_REPLACE
        } else {
            flags.bits() | XDP_FLAGS_UPDATE_IF_NOEXIST
        };
        match xdp_attach(ifindex, Some(prog_fd.as_fd()), attach_flags, None) {
            Err(source) if occupied(source.errno()) => {
                return Err(busy(self.data.name(), ifindex, source));
            }
            other => other.map_err(netlink_error)?,
        }
        let inner = XdpLinkInner::Netlink(Attachment::new(NetlinkXdp {
            netns: NetnsAnchor::current(),
            ifindex,
            prog_fd: dup,
            mode: flags.bits() & XDP_FLAGS_MODES,
        }));
        Ok(self.data.links.insert(XdpLink::new(inner)))
    }

    /// Swaps this (loaded) program into an existing attachment `link` (e.g. taken from another
    /// program), atomically; the returned id is now owned by this program.
    pub fn attach_to_link(&mut self, link: XdpLink) -> Result<XdpLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let inner = match link.into_inner() {
            XdpLinkInner::Link(fd_link) => {
                link_update(fd_link.fd(), prog_fd.as_fd(), None, 0)
                    .map_err(self.data.syscall_error("XDP link update"))?;
                XdpLinkInner::Link(fd_link)
            }
            XdpLinkInner::Netlink(mut old) => {
                xdp_attach(
                    old.ifindex,
                    Some(prog_fd.as_fd()),
                    old.mode,
                    Some(old.prog_fd.as_fd()),
                )
                .map_err(self.data.syscall_error("netlink XDP replace"))?;
                old.target_mut().prog_fd =
                    prog_fd
                        .as_fd()
                        .try_clone_to_owned()
                        .map_err(|source| ProgramError::Io {
                            what: "duplicating the program fd".to_owned(),
                            source,
                        })?;
                XdpLinkInner::Netlink(old)
            }
        };
        Ok(self.data.links.insert(XdpLink::new(inner)))
    }
}

/// Whether an XDP attach failure means the interface already runs a program: EBUSY for a
/// link or `UPDATE_IF_NOEXIST`, EEXIST for the other mode (generic vs native) in use.
fn occupied(errno: Option<i32>) -> bool {
    matches!(errno, Some(libc::EBUSY | libc::EEXIST))
}

/// The error for an interface that already runs an XDP program, naming that program.
fn busy(program: &str, ifindex: u32, source: bpf_sys::SyscallError) -> ProgramError {
    let occupant = match xdp_query(ifindex) {
        Ok(query) if query.prog_id != 0 => format!("XDP program id {} attached", query.prog_id),
        Ok(query) => {
            let ids = [query.skb_prog_id, query.drv_prog_id, query.hw_prog_id];
            match ids.into_iter().find(|&id| id != 0) {
                Some(id) => format!("XDP program id {id} attached"),
                None => "an XDP program attached".to_owned(),
            }
        }
        Err(_) => "an XDP program attached".to_owned(),
    };
    ProgramError::AttachPointBusy {
        program: program.to_owned(),
        target: format!("interface {ifindex}"),
        occupant,
        source: Some(source),
    }
}

/// The index of interface `name` in the calling thread's network namespace.
fn interface_index(name: &str) -> Result<u32, ProgramError> {
    if_nametoindex(name).map_err(|source| {
        XdpError::InterfaceNotFound {
            name: name.to_owned(),
            source,
        }
        .into()
    })
}
