//! What every cgroup program type shares: attach modes, the link-or-`BPF_PROG_ATTACH` attach
//! and the errors of attaching to a cgroup.

use std::os::fd::{AsFd, BorrowedFd};

use bpf_sys::attach::AttachTarget;
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::mount::{CGROUP2_SUPER_MAGIC, fd_filesystem_magic};

pub use super::attach_options::CgroupAttachMode;
use super::data::ProgramData;
pub use super::error::CgroupAttachError;
use super::error::ProgramError;
use super::links::Link;
use super::prog_attach_link::{
    AttachMethod, LinkOrAttachment, LinkSupport, attach_fd_target, refuse_occupied,
};
use super::typed_program::{ProgramKind, TypedProgram};

/// Whether this kernel has `bpf_link`s on cgroups (learnt on first attach).
static CGROUP_LINKS: LinkSupport = LinkSupport::new();

/// Attaches a loaded program to `cgroup` at `attach_type`.
pub(crate) fn attach_to_cgroup<T: Link>(
    data: &ProgramData<T>,
    cgroup: BorrowedFd<'_>,
    attach_type: bpf_attach_type::Type,
    mode: CgroupAttachMode,
    method: AttachMethod,
) -> Result<LinkOrAttachment, ProgramError> {
    let prog_fd = data.fd()?;
    let attach_type_name = attach_type_name(attach_type);
    let method = match (mode, method) {
        (CgroupAttachMode::AllowMultiple, method) => method,
        (_, AttachMethod::Link) => {
            return Err(CgroupAttachError::ModeNeedsProgAttach {
                program: data.name().to_owned(),
                attach_type: attach_type_name,
                mode,
            }
            .into());
        }
        (_, _) => AttachMethod::Legacy,
    };
    let describe = || format!("the cgroup's {attach_type_name} hook ({mode:?} mode)");
    if mode != CgroupAttachMode::AllowMultiple {
        refuse_occupied(
            data.name(),
            prog_fd.as_fd(),
            AttachTarget::Fd(cgroup),
            attach_type,
            &describe,
        )?;
    }
    attach_fd_target(
        &CGROUP_LINKS,
        method,
        prog_fd.as_fd(),
        cgroup,
        attach_type,
        mode.flags(),
    )
    .map_err(|source| {
        // EINVAL from a multi-program attach: the program is there already.
        if source.errno() == Some(libc::EINVAL)
            && let Err(e @ ProgramError::AlreadyAttached { .. }) = refuse_occupied(
                data.name(),
                prog_fd.as_fd(),
                AttachTarget::Fd(cgroup),
                attach_type,
                &describe,
            )
        {
            return e;
        }
        let program = data.name().to_owned();
        let source = Box::new(source);
        let not_a_cgroup =
            fd_filesystem_magic(cgroup).is_ok_and(|magic| magic != CGROUP2_SUPER_MAGIC);
        if not_a_cgroup {
            CgroupAttachError::NotACgroup {
                program,
                attach_type: attach_type_name,
                source,
            }
        } else {
            CgroupAttachError::Attach {
                program,
                attach_type: attach_type_name,
                source,
            }
        }
        .into()
    })
}

/// The attach type the program was loaded for (from its section).
pub(crate) fn section_attach_type<T: Link>(
    data: &ProgramData<T>,
) -> Result<bpf_attach_type::Type, ProgramError> {
    data.expected_attach_type
        .or_else(|| data.section().and_then(|s| s.expected_attach_type()))
        .ok_or_else(|| {
            CgroupAttachError::NoAttachType {
                program: data.name().to_owned(),
            }
            .into()
        })
}

fn attach_type_name(attach_type: bpf_attach_type::Type) -> &'static str {
    use bpf_attach_type as at;
    match attach_type {
        at::BPF_CGROUP_INET_INGRESS => "inet ingress",
        at::BPF_CGROUP_INET_EGRESS => "inet egress",
        at::BPF_CGROUP_INET_SOCK_CREATE => "sock_create",
        at::BPF_CGROUP_INET_SOCK_RELEASE => "sock_release",
        at::BPF_CGROUP_INET4_POST_BIND => "post_bind4",
        at::BPF_CGROUP_INET6_POST_BIND => "post_bind6",
        at::BPF_CGROUP_SOCK_OPS => "sock_ops",
        at::BPF_CGROUP_DEVICE => "device",
        at::BPF_CGROUP_SYSCTL => "sysctl",
        at::BPF_CGROUP_GETSOCKOPT => "getsockopt",
        at::BPF_CGROUP_SETSOCKOPT => "setsockopt",
        at::BPF_CGROUP_INET4_BIND => "bind4",
        at::BPF_CGROUP_INET6_BIND => "bind6",
        at::BPF_CGROUP_INET4_CONNECT => "connect4",
        at::BPF_CGROUP_INET6_CONNECT => "connect6",
        at::BPF_CGROUP_UNIX_CONNECT => "connect_unix",
        at::BPF_CGROUP_UDP4_SENDMSG => "sendmsg4",
        at::BPF_CGROUP_UDP6_SENDMSG => "sendmsg6",
        at::BPF_CGROUP_UNIX_SENDMSG => "sendmsg_unix",
        at::BPF_CGROUP_UDP4_RECVMSG => "recvmsg4",
        at::BPF_CGROUP_UDP6_RECVMSG => "recvmsg6",
        at::BPF_CGROUP_UNIX_RECVMSG => "recvmsg_unix",
        at::BPF_CGROUP_INET4_GETPEERNAME => "getpeername4",
        at::BPF_CGROUP_INET6_GETPEERNAME => "getpeername6",
        at::BPF_CGROUP_UNIX_GETPEERNAME => "getpeername_unix",
        at::BPF_CGROUP_INET4_GETSOCKNAME => "getsockname4",
        at::BPF_CGROUP_INET6_GETSOCKNAME => "getsockname6",
        at::BPF_CGROUP_UNIX_GETSOCKNAME => "getsockname_unix",
        _ => "other",
    }
}

/// The cgroup program types whose attach type is fixed at load by their section (all but
/// `cgroup_skb`, which takes it at attach); their methods are below, written once.
pub trait CgroupProgramKind: ProgramKind<Link: From<LinkOrAttachment>> {}

impl<K: CgroupProgramKind> TypedProgram<K> {
    /// The attach type the program was loaded for (from its section).
    pub fn attach_type(&self) -> Result<bpf_attach_type::Type, ProgramError> {
        section_attach_type(&self.data)
    }

    /// Attaches to `cgroup` (a cgroup2 directory fd): a `bpf_link` where the kernel has them
    /// and `mode` allows (see [`CgroupAttachMode`] for what a second attach does), else
    /// `BPF_PROG_ATTACH` with `mode`.
    pub fn attach(
        &mut self,
        cgroup: impl AsFd,
        mode: CgroupAttachMode,
    ) -> Result<<K::Link as Link>::Id, ProgramError> {
        self.attach_with_method(cgroup, mode, AttachMethod::Auto)
    }

    /// Like [`attach`](Self::attach), choosing the kernel interface.
    pub fn attach_with_method(
        &mut self,
        cgroup: impl AsFd,
        mode: CgroupAttachMode,
        method: AttachMethod,
    ) -> Result<<K::Link as Link>::Id, ProgramError> {
        let attach_type = self.attach_type()?;
        let inner = attach_to_cgroup(&self.data, cgroup.as_fd(), attach_type, mode, method)?;
        Ok(self.data.links.insert(K::Link::from(inner)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_sys::generated::{BPF_F_ALLOW_MULTI, BPF_F_ALLOW_OVERRIDE};

    #[test]
    fn modes_map_to_attach_flags() {
        assert_eq!(CgroupAttachMode::Single.flags(), 0);
        assert_eq!(
            CgroupAttachMode::AllowOverride.flags(),
            BPF_F_ALLOW_OVERRIDE
        );
        assert_eq!(CgroupAttachMode::AllowMultiple.flags(), BPF_F_ALLOW_MULTI);
        assert_eq!(CgroupAttachMode::default(), CgroupAttachMode::AllowMultiple);
    }

    #[test]
    fn attach_types_have_names() {
        assert_eq!(
            attach_type_name(bpf_attach_type::BPF_CGROUP_UNIX_CONNECT),
            "connect_unix"
        );
        assert_eq!(attach_type_name(bpf_attach_type::BPF_XDP), "other");
    }
}
