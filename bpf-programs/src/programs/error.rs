//! Errors shared by all program types; each type adds its own enum, wrapped here.

use std::path::PathBuf;

use bpf_core::relocation::RelocationError;
use bpf_sys::{LoadError, SyscallError};

/// A program could not be loaded, attached, detached or inspected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramError {
    #[error("program `{program}` is already loaded")]
    AlreadyLoaded { program: String },

    #[error("program `{program}` is not loaded")]
    NotLoaded { program: String },

    #[error("program `{program}` comes from unknown section `{section}`; it cannot be loaded")]
    UnknownSection { program: String, section: String },

    #[error("program `{program}` was opened from a pin or fd and has no instructions to load")]
    NoInstructions { program: String },

    #[error("program `{program}` is a {actual} program, not a {expected} program")]
    UnexpectedProgramType {
        program: String,
        expected: &'static str,
        actual: &'static str,
    },

    #[error("relocating program `{program}`: {source}")]
    Relocation {
        program: String,
        #[source]
        source: Box<RelocationError>,
    },

    #[error("program `{program}`: kernel refused to load it: {source}{unsatisfied_core}")]
    Load {
        program: String,
        #[source]
        source: LoadError,
        /// Empty, or which CO-RE relocations could not be satisfied (a likely cause).
        unsatisfied_core: String,
    },

    #[error(
        "program `{program}`: not supported by this kernel: program type {prog_type} \
         (its BTF has no such bpf_prog_type)"
    )]
    ProgramTypeNotSupported { program: String, prog_type: u32 },

    #[error("program `{program}`: not supported by this kernel: {feature}")]
    ProgramNotSupported {
        program: String,
        feature: &'static str,
    },

    #[error("program `{program}`: CO-RE target BTF: {message}")]
    CoreTarget { program: String, message: String },

    #[error("program `{program}`: {what}: {source}")]
    ProgramSyscall {
        program: String,
        what: &'static str,
        #[source]
        source: SyscallError,
    },

    #[error("{what}: {source}")]
    Syscall {
        what: &'static str,
        #[source]
        source: SyscallError,
    },

    /// Opening a kernel object by id failed (ENOENT: no such id).
    #[error("opening {kind} id {id}")]
    ById {
        kind: &'static str,
        id: u32,
        #[source]
        source: SyscallError,
    },

    #[error("not supported by this kernel: {feature}")]
    NotSupported { feature: &'static str },

    #[error("no link {id} on this program")]
    UnknownLink { id: String },

    #[error("pinning at or opening the pin {path}: {source}")]
    Pin {
        path: PathBuf,
        #[source]
        source: SyscallError,
    },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("program `{program}`: kernel BTF: {message}")]
    KernelBtf { program: String, message: String },

    #[error(transparent)]
    TracePoint(#[from] super::TracePointError),

    #[error(transparent)]
    RawTracePoint(#[from] super::RawTracePointError),
    #[error(transparent)]
    BtfTracePoint(#[from] super::BtfTracePointError),

    #[error(transparent)]
    KProbe(#[from] super::KProbeError),
    #[error(transparent)]
    UProbe(#[from] super::UProbeError),
    #[error(transparent)]
    Usdt(Box<super::UsdtError>),
    #[error(transparent)]
    PerfEvent(#[from] super::PerfEventError),

    #[error(transparent)]
    Iter(#[from] super::IterError),

    #[error(transparent)]
    FEntry(#[from] super::FEntryError),

    #[error(transparent)]
    Lsm(#[from] super::LsmError),

    #[error(transparent)]
    Extension(#[from] super::ExtensionError),

    #[error(transparent)]
    StructOps(#[from] crate::maps::struct_ops::StructOpsError),
    // networking, socket and cgroup program types
    #[error(transparent)]
    Xdp(#[from] super::XdpError),

    #[error(transparent)]
    Tc(#[from] super::TcError),

    #[error(transparent)]
    Netkit(#[from] super::NetkitError),

    #[error(transparent)]
    CgroupAttach(#[from] super::CgroupAttachError),

    #[error(transparent)]
    SocketFilter(#[from] super::SocketFilterError),

    #[error(transparent)]
    SkReuseport(#[from] super::SkReuseportError),

    #[error(transparent)]
    SkSkb(#[from] super::SkSkbError),

    #[error(transparent)]
    SkLookup(#[from] super::SkLookupError),

    #[error(transparent)]
    FlowDissector(#[from] super::FlowDissectorError),

    #[error(transparent)]
    Netfilter(#[from] super::NetfilterError),
}

impl From<super::UsdtError> for ProgramError {
    fn from(error: super::UsdtError) -> ProgramError {
        ProgramError::Usdt(Box::new(error))
    }
}

impl ProgramError {
    /// Maps a syscall failure that belongs to no particular program.
    pub(crate) fn syscall(what: &'static str) -> impl FnOnce(SyscallError) -> ProgramError {
        move |source| ProgramError::Syscall { what, source }
    }

    /// The errno behind the error, if a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            ProgramError::Load { source, .. } => source.errno(),
            ProgramError::ProgramSyscall { source, .. }
            | ProgramError::Syscall { source, .. }
            | ProgramError::ById { source, .. }
            | ProgramError::Pin { source, .. } => source.errno(),
            ProgramError::Io { source, .. } => source.raw_os_error(),
            ProgramError::StructOps(e) => e.errno(),
            _ => None,
        }
    }

    /// The verifier log, when the kernel refused the program.
    pub fn verifier_log(&self) -> Option<&bpf_sys::VerifierLog> {
        match self {
            ProgramError::Load { source, .. } => Some(&source.verifier_log),
            _ => None,
        }
    }
}
