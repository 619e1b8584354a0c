//! Walking kernel object ids and opening objects by id.

use std::os::fd::OwnedFd;

use crate::error::{BpfCommand, SyscallError};
use crate::syscall::{sys_bpf, sys_bpf_fd, zeroed_attr};

/// A kind of kernel BPF object that has ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// Programs.
    Prog,
    /// Maps.
    Map,
    /// Links.
    Link,
    /// BTF objects.
    Btf,
}

impl ObjectKind {
    fn next_id_cmd(self) -> BpfCommand {
        match self {
            ObjectKind::Prog => BpfCommand::ProgGetNextId,
            ObjectKind::Map => BpfCommand::MapGetNextId,
            ObjectKind::Link => BpfCommand::LinkGetNextId,
            ObjectKind::Btf => BpfCommand::BtfGetNextId,
        }
    }

    fn fd_by_id_cmd(self) -> BpfCommand {
        match self {
            ObjectKind::Prog => BpfCommand::ProgGetFdById,
            ObjectKind::Map => BpfCommand::MapGetFdById,
            ObjectKind::Link => BpfCommand::LinkGetFdById,
            ObjectKind::Btf => BpfCommand::BtfGetFdById,
        }
    }
}

/// The smallest id of `kind` greater than `start`, or `None` when there is none.
pub fn next_id(kind: ObjectKind, start: u32) -> Result<Option<u32>, SyscallError> {
    let mut raw = zeroed_attr();
    raw.__bindgen_anon_6.__bindgen_anon_1.start_id = start;
    match sys_bpf(kind.next_id_cmd(), &mut raw) {
        // SAFETY: reading a plain integer the kernel wrote back.
        Ok(_) => Ok(Some(unsafe { raw.__bindgen_anon_6.next_id })),
        Err(e) if e.errno() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Iterates over all current ids of `kind`, in increasing order.
pub fn ids(kind: ObjectKind) -> impl Iterator<Item = Result<u32, SyscallError>> {
    let mut current = Some(0u32);
    std::iter::from_fn(move || {
        let start = current?;
        match next_id(kind, start) {
            Ok(Some(id)) => {
                current = Some(id);
                Some(Ok(id))
            }
            Ok(None) => {
                current = None;
                None
            }
            Err(e) => {
                current = None;
                Some(Err(e))
            }
        }
    })
}

/// Opens the object of `kind` with `id`; `open_flags` is `BPF_F_RDONLY`/`BPF_F_WRONLY` for maps.
pub fn fd_by_id(kind: ObjectKind, id: u32, open_flags: u32) -> Result<OwnedFd, SyscallError> {
    let mut raw = zeroed_attr();
    raw.__bindgen_anon_6.__bindgen_anon_1.start_id = id;
    raw.__bindgen_anon_6.open_flags = open_flags;
    sys_bpf_fd(kind.fd_by_id_cmd(), &mut raw)
}
