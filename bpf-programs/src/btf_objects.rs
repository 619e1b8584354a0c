//! BTF objects loaded in the kernel (vmlinux, modules, programs' and maps' BTF): listed by id,
//! described, and read back as [`Btf`] to name the types of maps and the lines of programs.

use std::os::fd::AsFd;
use std::sync::Arc;

use bpf_core::btf::Btf;
use bpf_sys::error::SyscallError;
use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::{BtfInfo, btf_data, btf_info};

/// Why a BTF object could not be listed or read.
#[derive(Debug, thiserror::Error)]
pub enum BtfObjectError {
    /// The kernel refused (ENOENT: no BTF object has this id).
    #[error("BTF object id {id}: {what}")]
    Syscall {
        id: u32,
        what: &'static str,
        #[source]
        source: SyscallError,
    },
    /// Walking the ids failed.
    #[error("listing BTF object ids")]
    Ids(#[source] SyscallError),
    /// The bytes the kernel returned are not BTF this crate can parse.
    #[error("BTF object id {id}: {reason}")]
    Parse { id: u32, reason: String },
}

impl BtfObjectError {
    /// The errno behind the error, if a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            BtfObjectError::Syscall { source, .. } | BtfObjectError::Ids(source) => source.errno(),
            BtfObjectError::Parse { .. } => None,
        }
    }
}

/// A BTF object as the kernel describes it.
#[derive(Debug, Clone)]
pub struct BtfObjectInfo(BtfInfo);

impl BtfObjectInfo {
    /// Info of the BTF object with `id`.
    pub fn from_id(id: u32) -> Result<BtfObjectInfo, BtfObjectError> {
        let fd = fd_by_id(ObjectKind::Btf, id, 0).map_err(|source| BtfObjectError::Syscall {
            id,
            what: "open by id",
            source,
        })?;
        btf_info(fd.as_fd())
            .map(BtfObjectInfo)
            .map_err(|source| BtfObjectError::Syscall {
                id,
                what: "info",
                source,
            })
    }

    /// The BTF object id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// `vmlinux`, a module's name, or empty for BTF a program loaded.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Size of the raw BTF in bytes.
    pub fn size(&self) -> u32 {
        self.0.info.btf_size
    }

    /// True for the kernel's own BTF (vmlinux and modules).
    pub fn is_kernel(&self) -> bool {
        self.0.is_kernel()
    }

    /// Reads and parses the object's BTF; a module's is split BTF over vmlinux's.
    pub fn load(&self) -> Result<Btf, BtfObjectError> {
        load_btf(self.id(), self.is_kernel() && self.name() != "vmlinux")
    }
}

/// Reads and parses BTF object `id` (a kernel module's BTF on top of vmlinux's).
pub fn btf_by_id(id: u32) -> Result<Btf, BtfObjectError> {
    let info = BtfObjectInfo::from_id(id)?;
    info.load()
}

fn load_btf(id: u32, split: bool) -> Result<Btf, BtfObjectError> {
    let fd = fd_by_id(ObjectKind::Btf, id, 0).map_err(|source| BtfObjectError::Syscall {
        id,
        what: "open by id",
        source,
    })?;
    let data = btf_data(fd.as_fd()).map_err(|source| BtfObjectError::Syscall {
        id,
        what: "read",
        source,
    })?;
    let base = if split {
        Some(
            crate::object_btf::kernel_btf()
                .map_err(|reason| BtfObjectError::Parse { id, reason })?,
        )
    } else {
        None
    };
    Btf::parse_owned(data, base.map(|b: Arc<Btf>| b)).map_err(|e| BtfObjectError::Parse {
        id,
        reason: e.to_string(),
    })
}

/// Every BTF object in the kernel; objects freed while listing are skipped.
pub fn loaded_btf_objects() -> impl Iterator<Item = Result<BtfObjectInfo, BtfObjectError>> {
    ids(ObjectKind::Btf).filter_map(|id| match id {
        Ok(id) => match BtfObjectInfo::from_id(id) {
            Err(e) if e.errno() == Some(libc::ENOENT) => None,
            other => Some(other),
        },
        Err(e) => Some(Err(BtfObjectError::Ids(e))),
    })
}
