//! `BPF_PROG_ATTACH` / `BPF_PROG_DETACH` / `BPF_PROG_QUERY` (cgroups, sockmaps, tcx, …).

use std::os::fd::BorrowedFd;

use crate::error::{BpfCommand, SyscallError};
use crate::generated::{BPF_F_QUERY_EFFECTIVE, bpf_attach_type, bpf_attr};
use crate::syscall::{fd_u32, opt_fd_u32, slice_mut_ptr, sys_bpf, zeroed_attr};

/// What a program is attached to.
#[derive(Debug, Clone, Copy)]
pub enum AttachTarget<'a> {
    /// A cgroup, sockmap, netns, … fd.
    Fd(BorrowedFd<'a>),
    /// A network interface (tcx, netkit).
    Ifindex(u32),
}

impl AttachTarget<'_> {
    fn raw(self) -> u32 {
        match self {
            AttachTarget::Fd(fd) => fd_u32(fd),
            AttachTarget::Ifindex(index) => index,
        }
    }
}

/// Where a program goes relative to others (multi-prog attach points); set the matching
/// `BPF_F_BEFORE`/`BPF_F_AFTER` (and `BPF_F_ID` for ids) in the flags.
#[derive(Debug, Clone, Copy, Default)]
pub enum Relative<'a> {
    /// No anchor.
    #[default]
    None,
    /// Anchor by program or link fd.
    Fd(BorrowedFd<'a>),
    /// Anchor by program or link id.
    Id(u32),
}

impl Relative<'_> {
    pub(crate) fn raw(self) -> u32 {
        match self {
            Relative::None => 0,
            Relative::Fd(fd) => fd_u32(fd),
            Relative::Id(id) => id,
        }
    }
}

/// Arguments of `BPF_PROG_ATTACH`.
#[derive(Debug, Clone, Copy)]
pub struct ProgAttachAttr<'a> {
    /// The attach point.
    pub target: AttachTarget<'a>,
    /// The program to attach.
    pub prog_fd: BorrowedFd<'a>,
    /// `bpf_attach_type::BPF_*`.
    pub attach_type: bpf_attach_type::Type,
    /// `BPF_F_ALLOW_OVERRIDE`/`BPF_F_ALLOW_MULTI`/`BPF_F_REPLACE`/`BPF_F_BEFORE`/….
    pub flags: u32,
    /// Program to replace (with `BPF_F_REPLACE`).
    pub replace_prog_fd: Option<BorrowedFd<'a>>,
    /// Anchor for ordered attach points.
    pub relative: Relative<'a>,
    /// Fail with `ESTALE` unless the attach point is at this revision (0: don't check).
    pub expected_revision: u64,
}

fn attach_attr(
    target: AttachTarget<'_>,
    prog_fd: Option<BorrowedFd<'_>>,
    attach_type: bpf_attach_type::Type,
    flags: u32,
    relative: Relative<'_>,
    expected_revision: u64,
) -> bpf_attr {
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the attach member of a zeroed union.
    let a = unsafe { &mut raw.__bindgen_anon_5 };
    a.__bindgen_anon_1.target_fd = target.raw();
    a.attach_bpf_fd = opt_fd_u32(prog_fd);
    a.attach_type = attach_type;
    a.attach_flags = flags;
    a.__bindgen_anon_2.relative_fd = relative.raw();
    a.expected_revision = expected_revision;
    raw
}

/// Attaches a program with `BPF_PROG_ATTACH`.
pub fn prog_attach(attr: &ProgAttachAttr<'_>) -> Result<(), SyscallError> {
    let mut raw = attach_attr(
        attr.target,
        Some(attr.prog_fd),
        attr.attach_type,
        attr.flags,
        attr.relative,
        attr.expected_revision,
    );
    raw.__bindgen_anon_5.replace_bpf_fd = opt_fd_u32(attr.replace_prog_fd);
    sys_bpf(BpfCommand::ProgAttach, &mut raw).map(drop)
}

/// Detaches `prog_fd` (or whatever is attached, for single-program points, if `None`).
pub fn prog_detach(
    target: AttachTarget<'_>,
    prog_fd: Option<BorrowedFd<'_>>,
    attach_type: bpf_attach_type::Type,
    flags: u32,
    relative: Relative<'_>,
    expected_revision: u64,
) -> Result<(), SyscallError> {
    let mut raw = attach_attr(
        target,
        prog_fd,
        attach_type,
        flags,
        relative,
        expected_revision,
    );
    sys_bpf(BpfCommand::ProgDetach, &mut raw).map(drop)
}

/// What `BPF_PROG_QUERY` reported for one attach point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgQuery {
    /// Flags the attach point was configured with (cgroups).
    pub attach_flags: u32,
    /// Ids of the attached programs, in order.
    pub prog_ids: Vec<u32>,
    /// Per-program attach flags (empty with `BPF_F_QUERY_EFFECTIVE` or before 6.0).
    pub prog_attach_flags: Vec<u32>,
    /// Ids of the links holding each program, 0 for plain attachments (tcx/netkit only).
    pub link_ids: Vec<u32>,
    /// The attach point's revision (tcx/netkit; 0 elsewhere).
    pub revision: u64,
}

/// Lists the programs attached at `target`/`attach_type`; `query_flags` may be `BPF_F_QUERY_EFFECTIVE`.
pub fn prog_query(
    target: AttachTarget<'_>,
    attach_type: bpf_attach_type::Type,
    query_flags: u32,
) -> Result<ProgQuery, SyscallError> {
    // Link ids only exist for multi-prog attach points, which only kernels that know the
    // field have; older kernels reject non-zero fields they do not know.
    let want_link_ids = matches!(
        attach_type,
        bpf_attach_type::BPF_TCX_INGRESS
            | bpf_attach_type::BPF_TCX_EGRESS
            | bpf_attach_type::BPF_NETKIT_PRIMARY
            | bpf_attach_type::BPF_NETKIT_PEER
    );
    // Per-program flags are refused with BPF_F_QUERY_EFFECTIVE and unknown before 6.0.
    let mut want_prog_flags = query_flags & BPF_F_QUERY_EFFECTIVE == 0;
    let mut capacity = 16u32;
    loop {
        let mut prog_ids = vec![0u32; capacity as usize];
        let mut prog_attach_flags = vec![0u32; capacity as usize];
        let mut link_ids = vec![0u32; capacity as usize];
        let mut raw = zeroed_attr();
        {
            // SAFETY: writing plain fields of the query member of a zeroed union; the three
            // arrays hold `capacity` u32 slots each and live across the call.
            let q = unsafe { &mut raw.query };
            q.__bindgen_anon_1.target_fd = target.raw();
            q.attach_type = attach_type;
            q.query_flags = query_flags;
            q.prog_ids = slice_mut_ptr(&mut prog_ids);
            q.__bindgen_anon_2.prog_cnt = capacity;
            if want_prog_flags {
                q.prog_attach_flags = slice_mut_ptr(&mut prog_attach_flags);
            }
            if want_link_ids {
                q.link_ids = slice_mut_ptr(&mut link_ids);
            }
        }
        let result = sys_bpf(BpfCommand::ProgQuery, &mut raw);
        // SAFETY: reading plain integers the kernel wrote back into the query member.
        let (count, attach_flags, revision) = unsafe {
            (
                raw.query.__bindgen_anon_2.prog_cnt,
                raw.query.attach_flags,
                raw.query.revision,
            )
        };
        match result {
            Err(e) if e.errno() == Some(libc::ENOSPC) && count > capacity => capacity = count,
            Err(e) if e.errno() == Some(libc::EINVAL) && want_prog_flags => want_prog_flags = false,
            Err(e) => return Err(e),
            Ok(_) => {
                let n = count.min(capacity) as usize;
                prog_ids.truncate(n);
                prog_attach_flags.truncate(if want_prog_flags { n } else { 0 });
                link_ids.truncate(if want_link_ids { n } else { 0 });
                return Ok(ProgQuery {
                    attach_flags,
                    prog_ids,
                    prog_attach_flags,
                    link_ids,
                    revision,
                });
            }
        }
    }
}
