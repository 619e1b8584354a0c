//! `BPF_OBJ_GET_INFO_BY_FD` for programs, maps, links and BTF objects.

use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;

use crate::error::{BpfCommand, SyscallError};
use crate::generated::{bpf_btf_info, bpf_insn, bpf_link_info, bpf_map_info, bpf_prog_info};
use crate::syscall::{fd_u32, len_u32, name_from_c, sys_bpf, zeroed_attr};

/// Asks the kernel for `fd`'s info struct `T`, after `init` has set the request fields.
///
/// The struct starts all-zero, padding included, because the kernel rejects non-zero bytes
/// past the end of the struct it knows.
///
/// # Safety
/// `T` must be a plain-data UAPI info struct for which all-zero is valid, and any pointer
/// `init` stores must point to a live buffer at least as large as its length field says.
unsafe fn get_info<T>(fd: BorrowedFd<'_>, init: impl FnOnce(&mut T)) -> Result<T, SyscallError> {
    let cmd = BpfCommand::ObjGetInfoByFd;
    let mut info = MaybeUninit::<T>::zeroed();
    // SAFETY: the caller guarantees all-zero is a valid T.
    init(unsafe { info.assume_init_mut() });
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the info member of a zeroed union.
    let a = unsafe { &mut raw.info };
    a.bpf_fd = fd_u32(fd);
    a.info_len = len_u32(cmd, size_of::<T>())?;
    a.info = info.as_mut_ptr() as u64;
    sys_bpf(cmd, &mut raw)?;
    // SAFETY: initialised above; the kernel only wrote plain data into it.
    Ok(unsafe { info.assume_init() })
}

/// A program's info, with its name and map ids decoded.
#[derive(Debug, Clone)]
pub struct ProgInfo {
    /// The raw struct (type, id, tag, btf_id, run counters, …).
    pub info: bpf_prog_info,
    /// Program name as the kernel stores it (≤ 15 bytes).
    pub name: String,
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
}

impl ProgInfo {
    /// Program id.
    pub fn id(&self) -> u32 {
        self.info.id
    }

    /// `bpf_prog_type::BPF_PROG_TYPE_*`.
    pub fn prog_type(&self) -> u32 {
        self.info.type_
    }

    /// The program's tag (hash of its instructions).
    pub fn tag(&self) -> [u8; 8] {
        self.info.tag
    }
}

/// Reads a program's info, including its map ids.
pub fn prog_info(fd: BorrowedFd<'_>) -> Result<ProgInfo, SyscallError> {
    // SAFETY: bpf_prog_info is a UAPI info struct; no pointers are set.
    let info: bpf_prog_info = unsafe { get_info(fd, |_| {})? };
    let mut map_ids = Vec::new();
    if info.nr_map_ids > 0 {
        map_ids = vec![0u32; info.nr_map_ids as usize];
        // SAFETY: map_ids points to nr_map_ids u32 slots that live across the call.
        let second: bpf_prog_info = unsafe {
            get_info(fd, |i: &mut bpf_prog_info| {
                i.nr_map_ids = info.nr_map_ids;
                i.map_ids = map_ids.as_mut_ptr() as u64;
            })?
        };
        // The program's maps cannot change, but stay within what the kernel reported.
        map_ids.truncate(second.nr_map_ids.min(info.nr_map_ids) as usize);
    }
    Ok(ProgInfo {
        name: name_from_c(&info.name),
        info,
        map_ids,
    })
}

/// A map's info with its name decoded.
#[derive(Debug, Clone)]
pub struct MapInfo {
    /// The raw struct (type, id, sizes, flags, btf ids, …).
    pub info: bpf_map_info,
    /// Map name as the kernel stores it (≤ 15 bytes).
    pub name: String,
}

impl MapInfo {
    /// Map id.
    pub fn id(&self) -> u32 {
        self.info.id
    }

    /// `bpf_map_type::BPF_MAP_TYPE_*`.
    pub fn map_type(&self) -> u32 {
        self.info.type_
    }
}

/// Reads a map's info.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfo, SyscallError> {
    // SAFETY: bpf_map_info is a UAPI info struct without pointer fields.
    let info: bpf_map_info = unsafe { get_info(fd, |_| {})? };
    Ok(MapInfo {
        name: name_from_c(&info.name),
        info,
    })
}

/// A link's info; type-specific details are in the raw union.
#[derive(Clone)]
pub struct LinkInfo {
    /// The raw struct (type, id, prog_id, per-type union); its pointers are cleared.
    pub info: bpf_link_info,
    /// The raw tracepoint's name or the iterator's target (empty for other link types).
    pub target_name: String,
}

impl std::fmt::Debug for LinkInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkInfo")
            .field("type", &self.info.type_)
            .field("id", &self.info.id)
            .field("prog_id", &self.info.prog_id)
            .finish_non_exhaustive()
    }
}

impl LinkInfo {
    /// Link id.
    pub fn id(&self) -> u32 {
        self.info.id
    }

    /// `bpf_link_type::BPF_LINK_TYPE_*`.
    pub fn link_type(&self) -> u32 {
        self.info.type_
    }

    /// Id of the attached program.
    pub fn prog_id(&self) -> u32 {
        self.info.prog_id
    }
}

/// The type-specific part of a link's info, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkDetails {
    /// Raw tracepoint (the name is not fetched).
    RawTracepoint,
    /// fentry/fexit/fmod_ret/lsm/freplace/tp_btf.
    Tracing {
        /// `bpf_attach_type::BPF_*`.
        attach_type: u32,
        /// Id of the target program or BTF object.
        target_obj_id: u32,
        /// BTF id of the target function.
        target_btf_id: u32,
    },
    /// cgroup attachment.
    Cgroup {
        /// The cgroup's id.
        cgroup_id: u64,
        /// `bpf_attach_type::BPF_*`.
        attach_type: u32,
    },
    /// BPF iterator.
    Iter,
    /// Network namespace attachment (flow dissector, sk_lookup).
    Netns {
        /// The namespace's inode number.
        netns_ino: u32,
        /// `bpf_attach_type::BPF_*`.
        attach_type: u32,
    },
    /// XDP.
    Xdp {
        /// Interface index.
        ifindex: u32,
    },
    /// struct_ops map registration.
    StructOps {
        /// The struct_ops map.
        map_id: u32,
    },
    /// Netfilter hook.
    Netfilter {
        /// Protocol family.
        pf: u32,
        /// Hook number.
        hooknum: u32,
        /// Priority.
        priority: i32,
        /// Flags.
        flags: u32,
    },
    /// Multi-kprobe.
    KprobeMulti {
        /// Number of functions.
        count: u32,
        /// `BPF_F_KPROBE_MULTI_RETURN` or 0.
        flags: u32,
    },
    /// Multi-uprobe.
    UprobeMulti {
        /// Number of probes.
        count: u32,
        /// `BPF_F_UPROBE_MULTI_RETURN` or 0.
        flags: u32,
        /// Process filter (0: all).
        pid: u32,
    },
    /// kprobe/uprobe/tracepoint/perf event.
    PerfEvent {
        /// `bpf_perf_event_type::BPF_PERF_EVENT_*`.
        perf_event_type: u32,
    },
    /// tcx.
    Tcx {
        /// Interface index.
        ifindex: u32,
        /// `BPF_TCX_INGRESS` or `BPF_TCX_EGRESS`.
        attach_type: u32,
    },
    /// netkit.
    Netkit {
        /// Interface index.
        ifindex: u32,
        /// `BPF_NETKIT_PRIMARY` or `BPF_NETKIT_PEER`.
        attach_type: u32,
    },
    /// sockmap/sockhash attachment.
    Sockmap {
        /// The map.
        map_id: u32,
        /// `bpf_attach_type::BPF_*`.
        attach_type: u32,
    },
    /// A link type this crate does not decode.
    Unknown,
}

impl LinkInfo {
    /// Decodes the type-specific union according to the link type.
    pub fn details(&self) -> LinkDetails {
        use crate::generated::bpf_link_type as t;
        let u = &self.info.__bindgen_anon_1;
        // SAFETY: each arm reads the union member the kernel fills for that link type; every
        // member is plain integers, and the whole union was zeroed before the kernel wrote it.
        unsafe {
            match self.info.type_ {
                t::BPF_LINK_TYPE_RAW_TRACEPOINT => LinkDetails::RawTracepoint,
                t::BPF_LINK_TYPE_TRACING => LinkDetails::Tracing {
                    attach_type: u.tracing.attach_type,
                    target_obj_id: u.tracing.target_obj_id,
                    target_btf_id: u.tracing.target_btf_id,
                },
                t::BPF_LINK_TYPE_CGROUP => LinkDetails::Cgroup {
                    cgroup_id: u.cgroup.cgroup_id,
                    attach_type: u.cgroup.attach_type,
                },
                t::BPF_LINK_TYPE_ITER => LinkDetails::Iter,
                t::BPF_LINK_TYPE_NETNS => LinkDetails::Netns {
                    netns_ino: u.netns.netns_ino,
                    attach_type: u.netns.attach_type,
                },
                t::BPF_LINK_TYPE_XDP => LinkDetails::Xdp {
                    ifindex: u.xdp.ifindex,
                },
                t::BPF_LINK_TYPE_STRUCT_OPS => LinkDetails::StructOps {
                    map_id: u.struct_ops.map_id,
                },
                t::BPF_LINK_TYPE_NETFILTER => LinkDetails::Netfilter {
                    pf: u.netfilter.pf,
                    hooknum: u.netfilter.hooknum,
                    priority: u.netfilter.priority,
                    flags: u.netfilter.flags,
                },
                t::BPF_LINK_TYPE_KPROBE_MULTI => LinkDetails::KprobeMulti {
                    count: u.kprobe_multi.count,
                    flags: u.kprobe_multi.flags,
                },
                t::BPF_LINK_TYPE_UPROBE_MULTI => LinkDetails::UprobeMulti {
                    count: u.uprobe_multi.count,
                    flags: u.uprobe_multi.flags,
                    pid: u.uprobe_multi.pid,
                },
                t::BPF_LINK_TYPE_PERF_EVENT => LinkDetails::PerfEvent {
                    perf_event_type: u.perf_event.type_,
                },
                t::BPF_LINK_TYPE_TCX => LinkDetails::Tcx {
                    ifindex: u.tcx.ifindex,
                    attach_type: u.tcx.attach_type,
                },
                t::BPF_LINK_TYPE_NETKIT => LinkDetails::Netkit {
                    ifindex: u.netkit.ifindex,
                    attach_type: u.netkit.attach_type,
                },
                t::BPF_LINK_TYPE_SOCKMAP => LinkDetails::Sockmap {
                    map_id: u.sockmap.map_id,
                    attach_type: u.sockmap.attach_type,
                },
                _ => LinkDetails::Unknown,
            }
        }
    }
}

/// Reads a link's info; for raw tracepoints and iterators also the target's name.
pub fn link_info(fd: BorrowedFd<'_>) -> Result<LinkInfo, SyscallError> {
    use crate::generated::bpf_link_type as t;
    // SAFETY: bpf_link_info is a UAPI info struct; all pointer fields stay null.
    let info: bpf_link_info = unsafe { get_info(fd, |_| {})? };
    let mut name = vec![0u8; 256];
    let named = match info.type_ {
        // SAFETY: the pointer and length describe `name`, which outlives the call.
        t::BPF_LINK_TYPE_RAW_TRACEPOINT => Some(unsafe {
            get_info(fd, |i: &mut bpf_link_info| {
                i.__bindgen_anon_1.raw_tracepoint.tp_name = name.as_mut_ptr() as u64;
                i.__bindgen_anon_1.raw_tracepoint.tp_name_len = name.len() as u32;
            })
        }),
        // SAFETY: as above.
        t::BPF_LINK_TYPE_ITER => Some(unsafe {
            get_info(fd, |i: &mut bpf_link_info| {
                i.__bindgen_anon_1.iter.target_name = name.as_mut_ptr() as u64;
                i.__bindgen_anon_1.iter.target_name_len = name.len() as u32;
            })
        }),
        _ => None,
    };
    let target_name = match named {
        Some(Ok(_)) => {
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            String::from_utf8_lossy(&name[..end]).into_owned()
        }
        _ => String::new(),
    };
    Ok(LinkInfo { info, target_name })
}

/// A BTF object's info with its name decoded.
#[derive(Debug, Clone)]
pub struct BtfInfo {
    /// The raw struct (id, size, kernel_btf).
    pub info: bpf_btf_info,
    /// Object name: `vmlinux`, a module name, or empty for loaded BTF.
    pub name: String,
}

impl BtfInfo {
    /// BTF object id.
    pub fn id(&self) -> u32 {
        self.info.id
    }

    /// True for kernel (vmlinux or module) BTF.
    pub fn is_kernel(&self) -> bool {
        self.info.kernel_btf != 0
    }
}

/// Reads a BTF object's info, including its name.
pub fn btf_info(fd: BorrowedFd<'_>) -> Result<BtfInfo, SyscallError> {
    // Kernel BTF names are module names (< 64 bytes); loaded BTF has none.
    let mut name = vec![0u8; 128];
    // SAFETY: name points to name_len live bytes; btf is null.
    let named = unsafe {
        get_info(fd, |i: &mut bpf_btf_info| {
            i.name = name.as_mut_ptr() as u64;
            i.name_len = name.len() as u32;
        })
    };
    let mut info: bpf_btf_info = match named {
        // Kernels before 5.11 know no BTF names: fields past their struct must stay zero.
        Err(e) if e.errno() == Some(libc::E2BIG) => {
            name.clear();
            // SAFETY: bpf_btf_info is a UAPI info struct; no pointers are set.
            unsafe { get_info(fd, |_| {})? }
        }
        other => other?,
    };
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    name.truncate(end);
    info.name = 0;
    info.btf = 0;
    Ok(BtfInfo {
        name: String::from_utf8_lossy(&name).into_owned(),
        info,
    })
}

/// Reads a BTF object's raw bytes (header, types, strings).
pub fn btf_data(fd: BorrowedFd<'_>) -> Result<Vec<u8>, SyscallError> {
    // SAFETY: bpf_btf_info is a UAPI info struct; no pointers are set.
    let info: bpf_btf_info = unsafe { get_info(fd, |_| {})? };
    let mut data = vec![0u8; info.btf_size as usize];
    // SAFETY: btf points to btf_size live bytes.
    let second: bpf_btf_info = unsafe {
        get_info(fd, |i: &mut bpf_btf_info| {
            i.btf = data.as_mut_ptr() as u64;
            i.btf_size = info.btf_size;
        })?
    };
    data.truncate(second.btf_size.min(info.btf_size) as usize);
    Ok(data)
}

/// The program's instructions as the kernel rewrote them (empty without `CAP_SYS_ADMIN`).
pub fn prog_xlated_insns(fd: BorrowedFd<'_>) -> Result<Vec<bpf_insn>, SyscallError> {
    // SAFETY: bpf_prog_info is a UAPI info struct; no pointers are set.
    let info: bpf_prog_info = unsafe { get_info(fd, |_| {})? };
    let count = info.xlated_prog_len as usize / size_of::<bpf_insn>();
    let mut insns = vec![bpf_insn::default(); count];
    if count == 0 {
        return Ok(insns);
    }
    // SAFETY: xlated_prog_insns points to xlated_prog_len bytes of live bpf_insn storage.
    let second: bpf_prog_info = unsafe {
        get_info(fd, |i: &mut bpf_prog_info| {
            i.xlated_prog_len = (count * size_of::<bpf_insn>()) as u32;
            i.xlated_prog_insns = insns.as_mut_ptr() as u64;
        })?
    };
    insns.truncate(second.xlated_prog_len as usize / size_of::<bpf_insn>());
    Ok(insns)
}

/// Everything `BPF_OBJ_GET_INFO_BY_FD` can return about a program's code: instructions as the
/// kernel rewrote them, the JIT's machine code and symbols, and the BTF func/line info.
#[derive(Debug, Clone, Default)]
pub struct ProgCode {
    /// Translated instructions (empty without `CAP_SYS_ADMIN`).
    pub xlated: Vec<bpf_insn>,
    /// JIT-compiled machine code of all functions, back to back (empty when not JITed).
    pub jited: Vec<u8>,
    /// Kernel address of each function's machine code, in order.
    pub jited_ksyms: Vec<u64>,
    /// Length in bytes of each function's machine code.
    pub jited_func_lens: Vec<u32>,
    /// `bpf_func_info` records: instruction offset (in `xlated`) and BTF `FUNC` id.
    pub func_info: Vec<crate::generated::bpf_func_info>,
    /// `bpf_line_info` records, `insn_off` indexing `xlated`.
    pub line_info: Vec<crate::generated::bpf_line_info>,
    /// Machine code address of each line-info record.
    pub jited_line_info: Vec<u64>,
}

/// Reads a program's code and its debug records in two calls (sizes, then contents).
pub fn prog_code(fd: BorrowedFd<'_>) -> Result<ProgCode, SyscallError> {
    use crate::generated::{bpf_func_info, bpf_line_info};
    // SAFETY: bpf_prog_info is a UAPI info struct; no pointers are set.
    let sizes: bpf_prog_info = unsafe { get_info(fd, |_| {})? };
    let mut code = ProgCode {
        xlated: vec![bpf_insn::default(); sizes.xlated_prog_len as usize / size_of::<bpf_insn>()],
        jited: vec![0u8; sizes.jited_prog_len as usize],
        jited_ksyms: vec![0u64; sizes.nr_jited_ksyms as usize],
        jited_func_lens: vec![0u32; sizes.nr_jited_func_lens as usize],
        func_info: vec![bpf_func_info::default(); sizes.nr_func_info as usize],
        line_info: vec![bpf_line_info::default(); sizes.nr_line_info as usize],
        jited_line_info: vec![0u64; sizes.nr_jited_line_info as usize],
    };
    // Record sizes other than ours would mis-lay the arrays: skip those arrays.
    let func_rec = (sizes.func_info_rec_size as usize == size_of::<bpf_func_info>()) as u32;
    let line_rec = (sizes.line_info_rec_size as usize == size_of::<bpf_line_info>()) as u32;
    let jited_line_rec = (sizes.jited_line_info_rec_size as usize == size_of::<u64>()) as u32;
    // SAFETY: every pointer set below points to a live vector of exactly the length (in
    // elements of the declared record size) written beside it; the vectors outlive the call.
    let got: bpf_prog_info = unsafe {
        get_info(fd, |i: &mut bpf_prog_info| {
            i.xlated_prog_len = (code.xlated.len() * size_of::<bpf_insn>()) as u32;
            i.xlated_prog_insns = code.xlated.as_mut_ptr() as u64;
            i.jited_prog_len = code.jited.len() as u32;
            i.jited_prog_insns = code.jited.as_mut_ptr() as u64;
            i.nr_jited_ksyms = code.jited_ksyms.len() as u32;
            i.jited_ksyms = code.jited_ksyms.as_mut_ptr() as u64;
            i.nr_jited_func_lens = code.jited_func_lens.len() as u32;
            i.jited_func_lens = code.jited_func_lens.as_mut_ptr() as u64;
            i.nr_func_info = code.func_info.len() as u32 * func_rec;
            i.func_info_rec_size = size_of::<bpf_func_info>() as u32;
            i.func_info = code.func_info.as_mut_ptr() as u64;
            i.nr_line_info = code.line_info.len() as u32 * line_rec;
            i.line_info_rec_size = size_of::<bpf_line_info>() as u32;
            i.line_info = code.line_info.as_mut_ptr() as u64;
            i.nr_jited_line_info = code.jited_line_info.len() as u32 * jited_line_rec;
            i.jited_line_info_rec_size = size_of::<u64>() as u32;
            i.jited_line_info = code.jited_line_info.as_mut_ptr() as u64;
        })?
    };
    // The kernel reports what it has; keep only what fits the buffers it filled.
    code.xlated
        .truncate(got.xlated_prog_len as usize / size_of::<bpf_insn>());
    code.jited.truncate(got.jited_prog_len as usize);
    code.jited_ksyms.truncate(got.nr_jited_ksyms as usize);
    code.jited_func_lens
        .truncate(got.nr_jited_func_lens as usize);
    code.func_info
        .truncate((got.nr_func_info * func_rec) as usize);
    code.line_info
        .truncate((got.nr_line_info * line_rec) as usize);
    code.jited_line_info
        .truncate((got.nr_jited_line_info * jited_line_rec) as usize);
    Ok(code)
}
