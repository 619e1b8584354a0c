//! [`ProgramInfo`]: what the kernel reports about a loaded program, ours or anyone's.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, SystemTime};

use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::{ProgInfo, prog_info};

use super::ProgramError;

/// A loaded program as the kernel describes it.
#[derive(Debug, Clone)]
pub struct ProgramInfo(ProgInfo, Option<u64>);

impl ProgramInfo {
    pub(crate) fn new(info: ProgInfo, memlock: Option<u64>) -> ProgramInfo {
        ProgramInfo(info, memlock)
    }

    /// Reads the info of the program behind `fd`.
    pub fn from_fd(fd: BorrowedFd<'_>) -> Result<ProgramInfo, ProgramError> {
        let info = prog_info(fd).map_err(ProgramError::syscall("program info"))?;
        Ok(ProgramInfo(info, crate::fdinfo::fdinfo_u64(fd, "memlock")))
    }

    /// Opens the program with kernel id `id` and reads its info.
    pub fn from_id(id: u32) -> Result<ProgramInfo, ProgramError> {
        let fd = program_fd_by_id(id)?;
        ProgramInfo::from_fd(fd.as_fd())
    }

    /// Bytes of memory the kernel charges to the program (fdinfo's `memlock`).
    pub fn memlock(&self) -> Option<u64> {
        self.1
    }

    /// Bytes of JIT-compiled machine code (0 when not JITed or hidden).
    pub fn size_jited(&self) -> u32 {
        self.0.info.jited_prog_len
    }

    /// Instructions the verifier processed (Linux 5.16+; 0 before).
    pub fn verified_instructions(&self) -> u32 {
        self.0.info.verified_insns
    }

    /// Runs skipped because the program was already running on that CPU.
    pub fn recursion_misses(&self) -> u64 {
        self.0.info.recursion_misses
    }

    /// Whether the program was loaded with a GPL-compatible license.
    pub fn gpl_compatible(&self) -> bool {
        self.0.info.gpl_compatible() != 0
    }

    /// BTF id of the function or type a tracing, LSM or struct_ops program attaches to.
    pub fn attach_btf_id(&self) -> Option<u32> {
        (self.0.info.attach_btf_id != 0).then_some(self.0.info.attach_btf_id)
    }

    /// Id of the BTF object holding [`attach_btf_id`](Self::attach_btf_id) (0: vmlinux).
    pub fn attach_btf_object_id(&self) -> u32 {
        self.0.info.attach_btf_obj_id
    }

    /// The tag as 16 hex digits, as bpftool prints it.
    pub fn tag_hex(&self) -> String {
        self.tag().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The kernel's program id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// The name the program was loaded with (at most 15 bytes).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The hash of the program's instructions.
    pub fn tag(&self) -> [u8; 8] {
        self.0.tag()
    }

    /// `bpf_prog_type::BPF_PROG_TYPE_*`.
    pub fn program_type(&self) -> u32 {
        self.0.prog_type()
    }

    /// Time since boot at which the program was loaded.
    pub fn load_time_since_boot(&self) -> Duration {
        Duration::from_nanos(self.0.info.load_time)
    }

    /// Wall-clock load time (boot time from `/proc/stat`, to the second).
    pub fn load_time(&self) -> Option<SystemTime> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let boot = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse::<u64>()
            .ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(boot) + self.load_time_since_boot())
    }

    /// How many times the program ran (counted only while BPF stats are enabled).
    pub fn run_count(&self) -> u64 {
        self.0.info.run_cnt
    }

    /// Total run time (counted only while BPF stats are enabled).
    pub fn run_time(&self) -> Duration {
        Duration::from_nanos(self.0.info.run_time_ns)
    }

    /// Ids of the maps the program uses.
    pub fn map_ids(&self) -> &[u32] {
        &self.0.map_ids
    }

    /// Id of the program's BTF, if it was loaded with BTF.
    pub fn btf_id(&self) -> Option<u32> {
        (self.0.info.btf_id != 0).then_some(self.0.info.btf_id)
    }

    /// Instructions after verification (as the kernel counts them).
    pub fn size_translated(&self) -> u32 {
        self.0.info.xlated_prog_len
    }

    /// UID that loaded the program.
    pub fn created_by_uid(&self) -> u32 {
        self.0.info.created_by_uid
    }

    /// The raw kernel struct.
    pub fn raw(&self) -> &bpf_sys::generated::bpf_prog_info {
        &self.0.info
    }
}

/// Turns on the kernel's run-count/run-time statistics for as long as the returned fd lives
/// (see [`ProgramInfo::run_count`]).
pub fn enable_run_stats() -> Result<std::os::fd::OwnedFd, ProgramError> {
    bpf_sys::misc::enable_stats(bpf_sys::generated::bpf_stats_type::BPF_STATS_RUN_TIME)
        .map_err(ProgramError::syscall("enable stats"))
}

/// Every program loaded in the kernel; programs unloaded while listing are skipped.
pub fn loaded_programs() -> impl Iterator<Item = Result<ProgramInfo, ProgramError>> {
    ids(ObjectKind::Prog).filter_map(|id| {
        let id = match id {
            Ok(id) => id,
            Err(e) => return Some(Err(ProgramError::syscall("program ids")(e))),
        };
        match fd_by_id(ObjectKind::Prog, id, 0) {
            Ok(fd) => Some(ProgramInfo::from_fd(fd.as_fd())),
            Err(e) if e.errno() == Some(libc::ENOENT) => None,
            Err(e) => Some(Err(ProgramError::syscall("program by id")(e))),
        }
    })
}

/// Opens the program with kernel id `id`.
pub fn program_fd_by_id(id: u32) -> Result<std::os::fd::OwnedFd, ProgramError> {
    fd_by_id(ObjectKind::Prog, id, 0).map_err(|source| ProgramError::ById {
        kind: "program",
        id,
        source,
    })
}
