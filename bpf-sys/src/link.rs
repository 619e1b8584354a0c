//! BPF links: `BPF_LINK_CREATE` for every attach kind, update, detach, raw tracepoints.

use std::ffi::{CStr, CString};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::attach::Relative;
use crate::error::{BpfCommand, SyscallError};
use crate::generated::{
    bpf_attach_type, bpf_attr__bindgen_ty_14__bindgen_ty_3, bpf_iter_link_info,
};
use crate::syscall::{
    cstring, fd_u32, len_u32, opt_fd_u32, slice_ptr, sys_bpf, sys_bpf_fd, zeroed_attr,
};

/// The object a link attaches to.
#[derive(Debug, Clone, Copy, Default)]
pub enum LinkTarget<'a> {
    /// No target (tracing, iterators, kprobe/uprobe multi, netfilter, struct_ops).
    #[default]
    None,
    /// A cgroup, perf event, netns, sockmap, program (freplace) … fd.
    Fd(BorrowedFd<'a>),
    /// A network interface (xdp, tcx, netkit).
    Ifindex(u32),
}

/// What a BPF iterator walks.
#[derive(Debug, Clone, Copy)]
pub enum IterTarget<'a> {
    /// Elements of a map.
    Map(BorrowedFd<'a>),
    /// A cgroup hierarchy from the cgroup `fd` (or `id` when fd is `None`), walked in `order`.
    Cgroup {
        /// The starting cgroup fd.
        fd: Option<BorrowedFd<'a>>,
        /// The starting cgroup id (when no fd).
        id: u64,
        /// `bpf_cgroup_iter_order::BPF_CGROUP_ITER_*`.
        order: u32,
    },
    /// Tasks (all, one thread `tid`, one process `pid`, or the process of `pid_fd`).
    Task {
        /// Thread id, or 0.
        tid: u32,
        /// Process id, or 0.
        pid: u32,
        /// Pidfd, or `None`.
        pid_fd: Option<BorrowedFd<'a>>,
    },
}

/// Type-specific parts of `BPF_LINK_CREATE`.
#[derive(Debug, Clone, Copy, Default)]
pub enum LinkKind<'a> {
    /// Nothing extra (cgroup, sk_lookup, netns, xdp, sockmap, struct_ops, …).
    #[default]
    Plain,
    /// A BTF id in the target (freplace with a target program).
    TargetBtfId(u32),
    /// Iterator parameters (`None`: the iterator takes none).
    Iter(Option<IterTarget<'a>>),
    /// A perf event link (kprobe/uprobe/tracepoint/perf event) with its cookie.
    PerfEvent {
        /// Value returned by `bpf_get_attach_cookie()`.
        bpf_cookie: u64,
    },
    /// Multi-kprobe: by symbol names or by addresses, with optional cookies.
    KprobeMulti {
        /// `BPF_F_KPROBE_MULTI_RETURN` or 0.
        flags: u32,
        /// Function names (exclusive with `addrs`).
        syms: &'a [&'a CStr],
        /// Function addresses (exclusive with `syms`).
        addrs: &'a [u64],
        /// One cookie per function, or empty.
        cookies: &'a [u64],
    },
    /// Multi-uprobe on one binary.
    UprobeMulti {
        /// The binary or library.
        path: &'a Path,
        /// File offsets of the probes.
        offsets: &'a [u64],
        /// Reference counter (semaphore) offsets, or empty.
        ref_ctr_offsets: &'a [u64],
        /// One cookie per offset, or empty.
        cookies: &'a [u64],
        /// `BPF_F_UPROBE_MULTI_RETURN` or 0.
        flags: u32,
        /// Only fire for this process (0: all).
        pid: u32,
    },
    /// fentry/fexit/fmod_ret/lsm/raw_tp with a cookie.
    Tracing {
        /// Target BTF id (0: the one given at load).
        target_btf_id: u32,
        /// Value returned by `bpf_get_attach_cookie()`.
        cookie: u64,
    },
    /// Netfilter hook.
    Netfilter {
        /// Protocol family (`NFPROTO_IPV4`, …).
        pf: u32,
        /// Hook number (`NF_INET_LOCAL_IN`, …).
        hooknum: u32,
        /// Priority among hooks.
        priority: i32,
        /// `BPF_F_NETFILTER_IP_DEFRAG` or 0.
        flags: u32,
    },
    /// tcx ingress/egress.
    Tcx {
        /// Anchor (with `BPF_F_BEFORE`/`BPF_F_AFTER` in the link flags).
        relative: Relative<'a>,
        /// Required revision, or 0.
        expected_revision: u64,
    },
    /// netkit primary/peer.
    Netkit {
        /// Anchor (with `BPF_F_BEFORE`/`BPF_F_AFTER` in the link flags).
        relative: Relative<'a>,
        /// Required revision, or 0.
        expected_revision: u64,
    },
}

/// Arguments of `BPF_LINK_CREATE`.
#[derive(Debug, Clone, Copy)]
pub struct LinkCreateAttr<'a> {
    /// The program (or, for struct_ops, the map) to link.
    pub prog_fd: BorrowedFd<'a>,
    /// The attach point.
    pub target: LinkTarget<'a>,
    /// `bpf_attach_type::BPF_*`.
    pub attach_type: bpf_attach_type::Type,
    /// Link flags (`XDP_FLAGS_*`, `BPF_F_BEFORE`, …).
    pub flags: u32,
    /// Type-specific parameters.
    pub kind: LinkKind<'a>,
}

fn multi_count(cmd: BpfCommand, lens: &[usize]) -> Result<u32, SyscallError> {
    let mut count = 0usize;
    for &len in lens {
        if len == 0 {
            continue;
        }
        if count != 0 && len != count {
            return Err(SyscallError::from_errno(cmd, libc::EINVAL));
        }
        count = len;
    }
    len_u32(cmd, count)
}

/// Creates a link.
pub fn link_create(attr: &LinkCreateAttr<'_>) -> Result<OwnedFd, SyscallError> {
    let cmd = BpfCommand::LinkCreate;
    let mut raw = zeroed_attr();
    // What `raw` points at, read by the kernel during the call: lives until `sys_bpf` returns.
    let mut buffers = LinkBuffers::default();
    // SAFETY: writing plain fields of the link-create member of a zeroed union.
    let l = unsafe { &mut raw.link_create };
    l.__bindgen_anon_1.prog_fd = fd_u32(attr.prog_fd);
    l.__bindgen_anon_2.target_fd = match attr.target {
        LinkTarget::None => 0,
        LinkTarget::Fd(fd) => fd_u32(fd),
        LinkTarget::Ifindex(index) => index,
    };
    l.attach_type = attr.attach_type;
    l.flags = attr.flags;
    attr.kind.fill(cmd, &mut l.__bindgen_anon_3, &mut buffers)?;
    sys_bpf_fd(cmd, &mut raw)
}

/// The type-specific union of `BPF_LINK_CREATE` (named by bindgen).
type LinkKindAttr = bpf_attr__bindgen_ty_14__bindgen_ty_3;

/// Buffers a link's attributes point at: the kernel reads them during `BPF_LINK_CREATE`.
#[derive(Default)]
struct LinkBuffers {
    iter_info: bpf_iter_link_info,
    sym_ptrs: Vec<*const libc::c_char>,
    path: CString,
}

impl LinkKind<'_> {
    /// Writes the type-specific attributes into `u`; what they point at goes in `buffers`.
    fn fill(
        &self,
        cmd: BpfCommand,
        u: &mut LinkKindAttr,
        buffers: &mut LinkBuffers,
    ) -> Result<(), SyscallError> {
        match *self {
            LinkKind::Plain => {}
            LinkKind::TargetBtfId(id) => u.target_btf_id = id,
            LinkKind::Iter(None) => {}
            LinkKind::Iter(Some(target)) => fill_iter(u, target, &mut buffers.iter_info),
            LinkKind::PerfEvent { bpf_cookie } => u.perf_event.bpf_cookie = bpf_cookie,
            LinkKind::KprobeMulti {
                flags,
                syms,
                addrs,
                cookies,
            } => fill_kprobe_multi(cmd, u, flags, syms, addrs, cookies, &mut buffers.sym_ptrs)?,
            LinkKind::UprobeMulti { .. } => fill_uprobe_multi(cmd, u, self, &mut buffers.path)?,
            LinkKind::Tracing {
                target_btf_id,
                cookie,
            } => {
                // SAFETY: writing plain fields of the tracing variant.
                let t = unsafe { &mut u.tracing };
                t.target_btf_id = target_btf_id;
                t.cookie = cookie;
            }
            LinkKind::Netfilter {
                pf,
                hooknum,
                priority,
                flags,
            } => {
                // SAFETY: writing plain fields of the netfilter variant.
                let n = unsafe { &mut u.netfilter };
                n.pf = pf;
                n.hooknum = hooknum;
                n.priority = priority;
                n.flags = flags;
            }
            LinkKind::Tcx {
                relative,
                expected_revision,
            } => {
                // SAFETY: writing plain fields of the tcx variant.
                let t = unsafe { &mut u.tcx };
                t.__bindgen_anon_1.relative_fd = relative.raw();
                t.expected_revision = expected_revision;
            }
            LinkKind::Netkit {
                relative,
                expected_revision,
            } => {
                // SAFETY: writing plain fields of the netkit variant.
                let n = unsafe { &mut u.netkit };
                n.__bindgen_anon_1.relative_fd = relative.raw();
                n.expected_revision = expected_revision;
            }
        }
        Ok(())
    }
}

/// An iterator's parameters, in `iter_info`, which `u` points at.
fn fill_iter(u: &mut LinkKindAttr, target: IterTarget<'_>, iter_info: &mut bpf_iter_link_info) {
    match target {
        IterTarget::Map(fd) => iter_info.map.map_fd = fd_u32(fd),
        IterTarget::Cgroup { fd, id, order } => {
            iter_info.cgroup.order = order;
            iter_info.cgroup.cgroup_fd = opt_fd_u32(fd);
            iter_info.cgroup.cgroup_id = id;
        }
        IterTarget::Task { tid, pid, pid_fd } => {
            iter_info.task.tid = tid;
            iter_info.task.pid = pid;
            iter_info.task.pid_fd = opt_fd_u32(pid_fd);
        }
    }
    // SAFETY: writing plain fields of the iterator variant.
    let it = unsafe { &mut u.__bindgen_anon_1 };
    it.iter_info = &raw const *iter_info as u64;
    it.iter_info_len = size_of::<bpf_iter_link_info>() as u32;
}

/// A multi-kprobe's functions, by name (pointers kept in `sym_ptrs`) or by address.
fn fill_kprobe_multi(
    cmd: BpfCommand,
    u: &mut LinkKindAttr,
    flags: u32,
    syms: &[&CStr],
    addrs: &[u64],
    cookies: &[u64],
    sym_ptrs: &mut Vec<*const libc::c_char>,
) -> Result<(), SyscallError> {
    if !syms.is_empty() && !addrs.is_empty() {
        return Err(SyscallError::from_errno(cmd, libc::EINVAL));
    }
    let cnt = multi_count(cmd, &[syms.len(), addrs.len(), cookies.len()])?;
    *sym_ptrs = syms.iter().map(|s| s.as_ptr()).collect();
    // SAFETY: writing plain fields of the kprobe-multi variant.
    let k = unsafe { &mut u.kprobe_multi };
    k.flags = flags;
    k.cnt = cnt;
    k.syms = slice_ptr(sym_ptrs);
    k.addrs = slice_ptr(addrs);
    k.cookies = slice_ptr(cookies);
    Ok(())
}

/// A multi-uprobe (`kind`, a [`LinkKind::UprobeMulti`]): its binary (the path kept in `path`),
/// offsets, semaphores and cookies.
fn fill_uprobe_multi(
    cmd: BpfCommand,
    u: &mut LinkKindAttr,
    kind: &LinkKind<'_>,
    path: &mut CString,
) -> Result<(), SyscallError> {
    let LinkKind::UprobeMulti {
        path: binary,
        offsets,
        ref_ctr_offsets,
        cookies,
        flags,
        pid,
    } = *kind
    else {
        return Ok(());
    };
    let cnt = multi_count(cmd, &[offsets.len()])?;
    if (!ref_ctr_offsets.is_empty() && ref_ctr_offsets.len() != offsets.len())
        || (!cookies.is_empty() && cookies.len() != offsets.len())
    {
        return Err(SyscallError::from_errno(cmd, libc::EINVAL));
    }
    *path = cstring(cmd, binary.as_os_str().as_bytes())?;
    // SAFETY: writing plain fields of the uprobe-multi variant.
    let m = unsafe { &mut u.uprobe_multi };
    m.path = path.as_ptr() as u64;
    m.offsets = slice_ptr(offsets);
    m.ref_ctr_offsets = slice_ptr(ref_ctr_offsets);
    m.cookies = slice_ptr(cookies);
    m.cnt = cnt;
    m.flags = flags;
    m.pid = pid;
    Ok(())
}

/// Swaps the program of a link; with `BPF_F_REPLACE` only if it currently runs `old_prog_fd`.
pub fn link_update(
    link_fd: BorrowedFd<'_>,
    new_prog_fd: BorrowedFd<'_>,
    old_prog_fd: Option<BorrowedFd<'_>>,
    flags: u32,
) -> Result<(), SyscallError> {
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the link-update member of a zeroed union.
    let u = unsafe { &mut raw.link_update };
    u.link_fd = fd_u32(link_fd);
    u.__bindgen_anon_1.new_prog_fd = fd_u32(new_prog_fd);
    u.__bindgen_anon_2.old_prog_fd = opt_fd_u32(old_prog_fd);
    u.flags = flags;
    sys_bpf(BpfCommand::LinkUpdate, &mut raw).map(drop)
}

/// Points a struct_ops link at another struct_ops map (`BPF_LINK_UPDATE` with `new_map_fd`);
/// with `old_map_fd` (and `BPF_F_REPLACE` in `flags`) only if it still points at that one.
pub fn link_update_map(
    link_fd: BorrowedFd<'_>,
    new_map_fd: BorrowedFd<'_>,
    old_map_fd: Option<BorrowedFd<'_>>,
    flags: u32,
) -> Result<(), SyscallError> {
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the link-update member of a zeroed union.
    let u = unsafe { &mut raw.link_update };
    u.link_fd = fd_u32(link_fd);
    u.__bindgen_anon_1.new_map_fd = fd_u32(new_map_fd);
    u.__bindgen_anon_2.old_map_fd = opt_fd_u32(old_map_fd);
    u.flags = flags;
    sys_bpf(BpfCommand::LinkUpdate, &mut raw).map(drop)
}

/// Detaches a link from its target while keeping the fd (and any pins) alive.
pub fn link_detach(link_fd: BorrowedFd<'_>) -> Result<(), SyscallError> {
    let mut raw = zeroed_attr();
    raw.link_detach.link_fd = fd_u32(link_fd);
    sys_bpf(BpfCommand::LinkDetach, &mut raw).map(drop)
}

/// Attaches a raw tracepoint (or, with `name` `None`, a tracing program at its BTF target).
pub fn raw_tracepoint_open(
    name: Option<&str>,
    prog_fd: BorrowedFd<'_>,
    cookie: u64,
) -> Result<OwnedFd, SyscallError> {
    let cmd = BpfCommand::RawTracepointOpen;
    let name = name.map(|n| cstring(cmd, n.as_bytes())).transpose()?;
    let mut raw = zeroed_attr();
    // SAFETY: writing plain fields of the raw-tracepoint member; `name` outlives the call.
    let r = unsafe { &mut raw.raw_tracepoint };
    r.name = name.as_ref().map_or(0, |n| n.as_ptr() as u64);
    r.prog_fd = fd_u32(prog_fd);
    r.cookie = cookie;
    sys_bpf_fd(cmd, &mut raw)
}
