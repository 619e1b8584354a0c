//! [`BtfInfo`]: the BTF objects the kernel holds — vmlinux's, modules', and those loaded with
//! programs and maps (an object's BTF lives as long as a program or map using it); and
//! [`read_btf_file`] / [`read_split_btf_file`]: BTF files parsed as bpf-core's
//! [`Btf`], memory-mapped rather than copied where the file allows.

use std::os::fd::AsFd;

use bpf_core::btf::Btf;
use bpf_sys::SyscallError;
use bpf_sys::ids::{ObjectKind, fd_by_id, ids};

pub use crate::kernel::btf::{read_btf_file, read_split_btf_file};

/// A BTF object as the kernel describes it.
#[derive(Debug, Clone)]
pub struct BtfInfo(bpf_sys::info::BtfInfo);

impl BtfInfo {
    /// Opens the BTF object with kernel id `id` and reads its info.
    pub fn from_id(id: u32) -> Result<BtfInfo, SyscallError> {
        let fd = fd_by_id(ObjectKind::Btf, id, 0)?;
        bpf_sys::info::btf_info(fd.as_fd()).map(BtfInfo)
    }

    /// The kernel's BTF id (what [`ProgramInfo::btf_id`](crate::programs::ProgramInfo::btf_id)
    /// and [`MapInfo::btf_id`](crate::maps::MapInfo::btf_id) refer to).
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// `vmlinux`, a module's name, or empty for BTF loaded from an object file.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Size of the raw BTF data in bytes.
    pub fn size(&self) -> u32 {
        self.0.info.btf_size
    }

    /// True for the kernel's own BTF (vmlinux or a module).
    pub fn is_kernel(&self) -> bool {
        self.0.is_kernel()
    }

    /// Reads and parses the object's BTF; a module's is split BTF over vmlinux's.
    pub fn load(&self) -> Result<Btf, BtfReadError> {
        read_btf(self.id(), self.is_kernel() && self.name() != "vmlinux")
    }
}

/// Why a BTF object could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum BtfReadError {
    /// The kernel refused (ENOENT: no BTF object has this id).
    #[error("BTF object id {id}: {what}")]
    Syscall {
        id: u32,
        what: &'static str,
        #[source]
        source: SyscallError,
    },
    /// The bytes the kernel returned are not BTF this crate can parse.
    #[error("BTF object id {id}: {reason}")]
    Parse { id: u32, reason: String },
}

/// Reads and parses BTF object `id` (a kernel module's BTF on top of vmlinux's).
pub fn btf_by_id(id: u32) -> Result<Btf, BtfReadError> {
    let info = BtfInfo::from_id(id).map_err(|source| BtfReadError::Syscall {
        id,
        what: "info",
        source,
    })?;
    info.load()
}

fn read_btf(id: u32, split: bool) -> Result<Btf, BtfReadError> {
    let syscall = |what| move |source| BtfReadError::Syscall { id, what, source };
    let fd = fd_by_id(ObjectKind::Btf, id, 0).map_err(syscall("open by id"))?;
    let data = bpf_sys::info::btf_data(fd.as_fd()).map_err(syscall("read"))?;
    let base = if split {
        let vmlinux = crate::kernel::btf::vmlinux().map_err(|e| BtfReadError::Parse {
            id,
            reason: crate::ErrorChain(&e).to_string(),
        })?;
        Some(vmlinux)
    } else {
        None
    };
    Btf::parse_owned(data, base).map_err(|e| BtfReadError::Parse {
        id,
        reason: e.to_string(),
    })
}

/// Every BTF object in the kernel (needs `CAP_SYS_ADMIN`); objects freed while listing are
/// skipped.
pub fn loaded_btfs() -> impl Iterator<Item = Result<BtfInfo, SyscallError>> {
    ids(ObjectKind::Btf).filter_map(|id| {
        let id = match id {
            Ok(id) => id,
            Err(e) => return Some(Err(e)),
        };
        match BtfInfo::from_id(id) {
            Err(e) if e.errno() == Some(libc::ENOENT) => None,
            other => Some(other),
        }
    })
}
