//! [`StructOpsError`]: why a struct_ops map could not be created, registered or unregistered.

use bpf_core::obj::StructOpsLayoutError;
use bpf_sys::SyscallError;

use crate::maps::MapError;
use crate::programs::ProgramError;

/// Why a struct_ops map or one of its programs could not be created, loaded or registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StructOpsError {
    #[error("no struct_ops map `{map}` in the object")]
    NoSuchMap { map: String },

    #[error("struct_ops map `{map}`: the object has no BTF describing it")]
    NoObjectBtf { map: String },

    #[error("struct_ops map `{map}`: kernel BTF")]
    KernelBtf {
        map: String,
        #[source]
        source: crate::kernel::KernelFactError,
    },

    #[error("struct_ops map `{map}`: laying it out as the kernel's struct")]
    Layout {
        map: String,
        #[source]
        source: StructOpsLayoutError,
    },

    #[error("struct_ops map `{map}`: creating it")]
    Create {
        map: String,
        #[source]
        source: MapError,
    },

    #[error("struct_ops map `{map}` could not be created when the object was opened: {reason}")]
    NotCreated { map: String, reason: String },

    #[error(
        "struct_ops map `{map}` points at program `{program}`, which is no longer in the object"
    )]
    ProgramMissing { map: String, program: String },

    #[error("struct_ops map `{map}`: loading one of its programs")]
    ProgramLoad {
        map: String,
        program: String,
        #[source]
        source: Box<ProgramError>,
    },

    #[error("struct_ops map `{map}`: registering it")]
    Register {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error("struct_ops map `{map}`: creating its link")]
    Link {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error("struct_ops map `{map}`: unregistering it")]
    Unregister {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error(
        "struct_ops map `{map}`: its value was handed to the kernel already; members can no longer change"
    )]
    ValueWritten { map: String },

    #[error("struct_ops map `{map}`: member `{member}`: `{value}` does not fit (with its NUL)")]
    StringTooLong {
        map: String,
        member: String,
        value: String,
    },

    #[error("switching a struct_ops link to map `{map}`")]
    Update {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error(
        "struct_ops map `{map}` is not registered through a bpf_link (a `.struct_ops` map, or a kernel before 6.4)"
    )]
    NotALink { map: String },

    #[error("struct_ops map `{map}`: pinning its link")]
    Pin {
        map: String,
        #[source]
        source: Box<ProgramError>,
    },

    #[error("struct_ops map `{map}`: duplicating its fd")]
    DupFd {
        map: String,
        #[source]
        source: std::io::Error,
    },
}

impl StructOpsError {
    /// The errno behind the error, if a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            StructOpsError::Register { source, .. }
            | StructOpsError::Link { source, .. }
            | StructOpsError::Unregister { source, .. }
            | StructOpsError::Update { source, .. } => source.errno(),
            StructOpsError::Create { source, .. } => source.errno(),
            StructOpsError::DupFd { source, .. } => source.raw_os_error(),
            StructOpsError::ProgramLoad { source, .. } | StructOpsError::Pin { source, .. } => {
                source.errno()
            }
            _ => None,
        }
    }
}
