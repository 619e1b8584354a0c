//! [`BtfInfo`]: the BTF objects the kernel holds — vmlinux's, modules', and those loaded with
//! programs and maps (an object's BTF lives as long as a program or map using it).

use std::os::fd::AsFd;

use bpf_sys::SyscallError;
use bpf_sys::ids::{ObjectKind, fd_by_id, ids};

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
