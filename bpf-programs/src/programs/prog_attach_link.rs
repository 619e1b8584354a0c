//! Attachments made with `BPF_PROG_ATTACH` (cgroups, sockmaps, netns) and the link kind of
//! program types that prefer a `bpf_link` but fall back to it on older kernels.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU8, Ordering};

use bpf_sys::attach::{
    AttachTarget, ProgAttachAttr, Relative, prog_attach, prog_detach, prog_query,
};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::info::prog_info;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};

use super::links::{Attachment, Detach};
use super::{FdLink, ProgramError};

/// Which kernel interface an `attach` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttachMethod {
    /// A `bpf_link` when the kernel has one for this attach point, else the older interface.
    #[default]
    Auto,
    /// Only a `bpf_link` (`BPF_LINK_CREATE`).
    Link,
    /// Only the older interface: `BPF_PROG_ATTACH`, netlink for XDP and tc, a socket option.
    Legacy,
}

/// What a `BPF_PROG_ATTACH` attachment is attached to.
#[derive(Debug)]
enum HeldTarget {
    /// A duplicate of the target fd (cgroup, sockmap, lirc device).
    Fd(OwnedFd),
    /// The calling thread's network namespace (netns attach points take target fd 0).
    CurrentNetns,
}

impl HeldTarget {
    fn target(&self) -> AttachTarget<'_> {
        match self {
            HeldTarget::Fd(fd) => AttachTarget::Fd(fd.as_fd()),
            HeldTarget::CurrentNetns => AttachTarget::Ifindex(0),
        }
    }
}

/// What a `BPF_PROG_ATTACH` attachment holds: duplicates of the program and target fds, which
/// its detach names (so that it detaches exactly this program) and which close with it.
#[derive(Debug)]
pub struct ProgAttach {
    target: HeldTarget,
    prog_fd: OwnedFd,
    attach_type: bpf_attach_type::Type,
}

impl ProgAttach {
    /// The attach type it was attached with.
    pub fn attach_type(&self) -> bpf_attach_type::Type {
        self.attach_type
    }
}

impl Detach for ProgAttach {
    fn detach_now(&mut self) -> Result<(), ProgramError> {
        prog_detach(
            self.target.target(),
            Some(self.prog_fd.as_fd()),
            self.attach_type,
            0,
            Relative::None,
            0,
        )
        .map_err(ProgramError::syscall("BPF_PROG_DETACH"))
    }
}

/// A program attached with `BPF_PROG_ATTACH`; dropping it detaches exactly that program.
pub type ProgAttachLink = Attachment<ProgAttach>;

impl ProgAttachLink {
    /// Attaches `prog_fd` to `target` and keeps duplicates of both fds for the detach.
    pub(crate) fn attach(
        prog_fd: BorrowedFd<'_>,
        target: BorrowedFd<'_>,
        attach_type: bpf_attach_type::Type,
        flags: u32,
    ) -> Result<ProgAttachLink, ProgramError> {
        let dup = |fd: BorrowedFd<'_>, what: &str| {
            fd.try_clone_to_owned().map_err(|source| ProgramError::Io {
                what: format!("duplicating the {what} fd"),
                source,
            })
        };
        let target = HeldTarget::Fd(dup(target, "attach target")?);
        Self::attach_held(dup(prog_fd, "program")?, target, attach_type, flags)
    }

    /// Attaches `prog_fd` to the calling thread's network namespace (flow dissector).
    pub(crate) fn attach_current_netns(
        prog_fd: BorrowedFd<'_>,
        attach_type: bpf_attach_type::Type,
    ) -> Result<ProgAttachLink, ProgramError> {
        let prog_fd = prog_fd
            .try_clone_to_owned()
            .map_err(|source| ProgramError::Io {
                what: "duplicating the program fd".to_owned(),
                source,
            })?;
        Self::attach_held(prog_fd, HeldTarget::CurrentNetns, attach_type, 0)
    }

    fn attach_held(
        prog_fd: OwnedFd,
        target: HeldTarget,
        attach_type: bpf_attach_type::Type,
        flags: u32,
    ) -> Result<ProgAttachLink, ProgramError> {
        prog_attach(&ProgAttachAttr {
            target: target.target(),
            prog_fd: prog_fd.as_fd(),
            attach_type,
            flags,
            replace_prog_fd: None,
            relative: Relative::None,
            expected_revision: 0,
        })
        .map_err(ProgramError::syscall("BPF_PROG_ATTACH"))?;
        Ok(Attachment::new(ProgAttach {
            target,
            prog_fd,
            attach_type,
        }))
    }
}

/// Before a `BPF_PROG_ATTACH` to an attach point holding one program, which the kernel would
/// replace without a word (and the earlier attachment's detach would then fail, or remove the
/// newcomer): refuses when a program is there — this one ([`ProgramError::AlreadyAttached`]) or
/// another ([`ProgramError::AttachPointBusy`]). `target` describes the attach point for the
/// error. A query the kernel cannot answer (older kernels for some targets) lets the attach go
/// ahead.
pub(crate) fn refuse_occupied(
    program: &str,
    prog_fd: BorrowedFd<'_>,
    query_target: AttachTarget<'_>,
    attach_type: bpf_attach_type::Type,
    target: &dyn Fn() -> String,
) -> Result<(), ProgramError> {
    let Ok(query) = prog_query(query_target, attach_type, 0) else {
        return Ok(());
    };
    if query.prog_ids.is_empty() {
        return Ok(());
    }
    let own_id = prog_info(prog_fd).map(|info| info.id()).ok();
    if own_id.is_some_and(|id| query.prog_ids.contains(&id)) {
        return Err(ProgramError::AlreadyAttached {
            program: program.to_owned(),
            target: target(),
            source: None,
        });
    }
    let mut ids = query.prog_ids;
    ids.dedup();
    let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
    Err(ProgramError::AttachPointBusy {
        program: program.to_owned(),
        target: target(),
        occupant: format!("program id {} attached", ids.join(", ")),
        source: None,
    })
}

/// A `bpf_link` or, where the kernel has none for the attach point, a `BPF_PROG_ATTACH`.
#[derive(Debug)]
pub enum LinkOrAttachment {
    /// A `bpf_link`.
    Link(FdLink),
    /// A `BPF_PROG_ATTACH` attachment.
    Attachment(ProgAttachLink),
}

impl LinkOrAttachment {
    /// Detaches now (a `bpf_link` is detached even if a forked child still holds its fd).
    pub fn detach(self) -> Result<(), ProgramError> {
        match self {
            LinkOrAttachment::Link(link) => link.detach(),
            LinkOrAttachment::Attachment(attachment) => attachment.detach(),
        }
    }

    /// Whether this is a `bpf_link`.
    pub fn is_link(&self) -> bool {
        matches!(self, LinkOrAttachment::Link(_))
    }
}

/// Remembers per attach-point family whether the kernel has links for it: learnt when a link
/// create fails as "unknown" and the older interface then succeeds.
#[derive(Debug)]
pub(crate) struct LinkSupport(AtomicU8);

const UNKNOWN: u8 = 0;
const SUPPORTED: u8 = 1;
const UNSUPPORTED: u8 = 2;

impl LinkSupport {
    pub(crate) const fn new() -> LinkSupport {
        LinkSupport(AtomicU8::new(UNKNOWN))
    }

    pub(crate) fn known_unsupported(&self) -> bool {
        self.0.load(Ordering::Relaxed) == UNSUPPORTED
    }

    pub(crate) fn learn(&self, supported: bool) {
        let value = if supported { SUPPORTED } else { UNSUPPORTED };
        let _ = self
            .0
            .compare_exchange(UNKNOWN, value, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Whether a link-create failure means "no links for this attach point here".
pub(crate) fn link_unsupported(errno: Option<i32>) -> bool {
    // 524 is the kernel-internal ENOTSUPP some link types return.
    matches!(errno, Some(libc::EINVAL | libc::EOPNOTSUPP | 524))
}

/// Attaches to an fd target: a link first, `BPF_PROG_ATTACH` with `flags` as fallback.
pub(crate) fn attach_fd_target(
    support: &LinkSupport,
    method: AttachMethod,
    prog_fd: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    attach_type: bpf_attach_type::Type,
    flags: u32,
) -> Result<LinkOrAttachment, ProgramError> {
    if method != AttachMethod::Legacy
        && !(method == AttachMethod::Auto && support.known_unsupported())
    {
        match link_create(&LinkCreateAttr {
            prog_fd,
            target: LinkTarget::Fd(target),
            attach_type,
            flags: 0,
            kind: LinkKind::Plain,
        }) {
            Ok(fd) => {
                support.learn(true);
                return Ok(LinkOrAttachment::Link(FdLink::new(fd)));
            }
            Err(e) if method == AttachMethod::Auto && link_unsupported(e.errno()) => {
                let attachment = ProgAttachLink::attach(prog_fd, target, attach_type, flags)?;
                support.learn(false);
                return Ok(LinkOrAttachment::Attachment(attachment));
            }
            Err(e) => return Err(ProgramError::syscall("BPF_LINK_CREATE")(e)),
        }
    }
    ProgAttachLink::attach(prog_fd, target, attach_type, flags).map(LinkOrAttachment::Attachment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_support_keeps_the_first_answer() {
        let support = LinkSupport::new();
        assert!(!support.known_unsupported());
        support.learn(false);
        assert!(support.known_unsupported());
        support.learn(true);
        assert!(
            support.known_unsupported(),
            "a later answer must not flip it"
        );

        let support = LinkSupport::new();
        support.learn(true);
        support.learn(false);
        assert!(!support.known_unsupported());
    }

    #[test]
    fn only_unknown_command_errnos_mean_no_links() {
        assert!(link_unsupported(Some(libc::EINVAL)));
        assert!(link_unsupported(Some(libc::EOPNOTSUPP)));
        assert!(link_unsupported(Some(524)));
        assert!(!link_unsupported(Some(libc::EBADF)));
        assert!(!link_unsupported(Some(libc::EPERM)));
        assert!(!link_unsupported(None));
    }
}
