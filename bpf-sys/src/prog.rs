//! `BPF_PROG_LOAD`, with verifier-log capture and growth.

use std::ffi::CString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use crate::error::{BpfCommand, LoadError, ProgLoadError, SyscallError, VerifierLog};
use crate::generated::{bpf_attach_type, bpf_insn, bpf_prog_type};
use crate::log::load_with_log;
use crate::syscall::{
    BPF_F_TOKEN_FD, fd_u32, object_name, opt_fd_u32, slice_ptr, sys_bpf, sys_bpf_fd, zeroed_attr,
};

/// Everything `BPF_PROG_LOAD` accepts; zero/empty/`None` fields are left out.
#[derive(Debug, Default, Clone)]
pub struct ProgLoadAttr<'a> {
    /// `bpf_prog_type::BPF_PROG_TYPE_*`.
    pub prog_type: bpf_prog_type::Type,
    /// `bpf_attach_type::BPF_*` the program will be attached with.
    pub expected_attach_type: bpf_attach_type::Type,
    /// Program name; cut to 15 bytes, characters the kernel refuses become `_`.
    pub name: &'a str,
    /// The instructions.
    pub insns: &'a [bpf_insn],
    /// License string, e.g. `"GPL"` (cut at the first NUL).
    pub license: &'a str,
    /// `LINUX_VERSION_CODE` for old kprobe checks.
    pub kern_version: u32,
    /// `BPF_F_*` program flags (sleepable, xdp frags, …).
    pub prog_flags: u32,
    /// BTF object holding the program's func/line info types.
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    /// Packed `bpf_func_info` records.
    pub func_info: &'a [u8],
    /// Size of one func info record.
    pub func_info_rec_size: u32,
    /// Packed `bpf_line_info` records.
    pub line_info: &'a [u8],
    /// Size of one line info record.
    pub line_info_rec_size: u32,
    /// BTF id of the attach target (tracing, LSM, struct_ops, …).
    pub attach_btf_id: u32,
    /// Module BTF holding `attach_btf_id` (mutually exclusive with `attach_prog_fd`).
    pub attach_btf_obj_fd: Option<BorrowedFd<'a>>,
    /// Target program for freplace / fentry on BPF programs.
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
    /// Device to offload to / bind to.
    pub ifindex: u32,
    /// Fds referenced by index from `ld_imm64` with `BPF_PSEUDO_MAP_IDX` / kfunc calls.
    pub fd_array: &'a [BorrowedFd<'a>],
    /// 0: no log unless the load fails; 1: verifier log; 2: verbose; |4: stats.
    pub log_level: u32,
    /// BPF token granting the permission (`BPF_F_TOKEN_FD` is added to the flags).
    pub token_fd: Option<BorrowedFd<'a>>,
}

/// A loaded program and whatever the verifier printed while loading it.
#[derive(Debug)]
pub struct LoadedProg {
    /// The program fd.
    pub fd: OwnedFd,
    /// The log, empty when `log_level` was 0.
    pub verifier_log: VerifierLog,
}

/// Loads a program; on failure retries with a log so the error always carries the verifier's words.
pub fn prog_load(attr: &ProgLoadAttr<'_>) -> Result<OwnedFd, ProgLoadError> {
    prog_load_with_log(attr).map(|loaded| loaded.fd)
}

/// Loads a program and also returns the verifier log requested by `log_level`.
pub fn prog_load_with_log(attr: &ProgLoadAttr<'_>) -> Result<LoadedProg, ProgLoadError> {
    let cmd = BpfCommand::ProgLoad;
    let license_bytes = attr.license.as_bytes();
    let license_end = license_bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(license_bytes.len());
    let license =
        CString::new(license_bytes.get(..license_end).unwrap_or_default()).unwrap_or_default();
    let insn_cnt = u32::try_from(attr.insns.len()).map_err(|_| invalid(cmd, "too many insns"))?;
    let func_info_cnt = record_count(cmd, attr.func_info, attr.func_info_rec_size, "func_info")?;
    let line_info_cnt = record_count(cmd, attr.line_info, attr.line_info_rec_size, "line_info")?;
    if attr.attach_btf_obj_fd.is_some() && attr.attach_prog_fd.is_some() {
        return Err(invalid(
            cmd,
            "attach_btf_obj_fd and attach_prog_fd are exclusive",
        ));
    }

    let mut raw = zeroed_attr();
    // SAFETY: writing plain fields of the prog-load member of a zeroed union; every pointer
    // stored here refers to data borrowed by `attr` or owned by this function.
    let a = unsafe { &mut raw.__bindgen_anon_3 };
    a.prog_type = attr.prog_type;
    a.expected_attach_type = attr.expected_attach_type;
    a.prog_name = object_name(attr.name);
    a.insn_cnt = insn_cnt;
    a.insns = slice_ptr(attr.insns);
    a.license = license.as_ptr() as u64;
    a.kern_version = attr.kern_version;
    a.prog_flags = attr.prog_flags;
    a.prog_btf_fd = opt_fd_u32(attr.prog_btf_fd);
    if func_info_cnt > 0 {
        a.func_info_rec_size = attr.func_info_rec_size;
        a.func_info = slice_ptr(attr.func_info);
        a.func_info_cnt = func_info_cnt;
    }
    if line_info_cnt > 0 {
        a.line_info_rec_size = attr.line_info_rec_size;
        a.line_info = slice_ptr(attr.line_info);
        a.line_info_cnt = line_info_cnt;
    }
    a.attach_btf_id = attr.attach_btf_id;
    if let Some(fd) = attr.attach_prog_fd {
        a.__bindgen_anon_1.attach_prog_fd = opt_fd_u32(Some(fd));
    } else {
        a.__bindgen_anon_1.attach_btf_obj_fd = opt_fd_u32(attr.attach_btf_obj_fd);
    }
    a.prog_ifindex = attr.ifindex;
    // BorrowedFd is repr(transparent) over a c_int, so the slice is the kernel's int array.
    a.fd_array = slice_ptr(attr.fd_array);
    if let Some(token) = attr.token_fd {
        a.prog_token_fd = fd_u32(token) as i32;
        a.prog_flags |= BPF_F_TOKEN_FD;
    }

    let (fd, verifier_log) = load_with_log(cmd, attr.log_level, &mut |log_level, log_buf| {
        {
            // SAFETY: writing plain fields of the prog-load member; `log_buf` outlives the call.
            let a = unsafe { &mut raw.__bindgen_anon_3 };
            a.log_level = log_level;
            a.log_buf = if log_level == 0 {
                0
            } else {
                log_buf.as_mut_ptr() as u64
            };
            a.log_size = if log_level == 0 {
                0
            } else {
                log_buf.len() as u32
            };
            a.log_true_size = 0;
        }
        let result = sys_bpf_fd(cmd, &mut raw);
        // SAFETY: reading a plain integer the kernel may have written back (0 on old kernels).
        (result, unsafe { raw.__bindgen_anon_3.log_true_size })
    })?;
    Ok(LoadedProg { fd, verifier_log })
}

fn record_count(
    cmd: BpfCommand,
    records: &[u8],
    rec_size: u32,
    what: &'static str,
) -> Result<u32, LoadError> {
    if records.is_empty() {
        return Ok(0);
    }
    if rec_size == 0 || !records.len().is_multiple_of(rec_size as usize) {
        return Err(invalid(cmd, what));
    }
    u32::try_from(records.len() / rec_size as usize).map_err(|_| invalid(cmd, what))
}

fn invalid(cmd: BpfCommand, what: &str) -> LoadError {
    LoadError {
        command: cmd.into(),
        io_error: io::Error::new(io::ErrorKind::InvalidInput, what.to_owned()),
        verifier_log: VerifierLog::default(),
    }
}

/// Keeps `map_fd` alive as long as program `prog_fd` (e.g. `.rodata` it no longer references).
pub fn prog_bind_map(prog_fd: BorrowedFd<'_>, map_fd: BorrowedFd<'_>) -> Result<(), SyscallError> {
    let mut raw = zeroed_attr();
    raw.prog_bind_map.prog_fd = fd_u32(prog_fd);
    raw.prog_bind_map.map_fd = fd_u32(map_fd);
    sys_bpf(BpfCommand::ProgBindMap, &mut raw).map(drop)
}
