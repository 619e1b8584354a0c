//! Errors shared by all program types; each type adds its own enum, wrapped here.

use std::path::{Path, PathBuf};

use bpf_core::relocation::RelocationError;
use bpf_sys::{Command, LoadError, SyscallError};

use super::attach_options::CgroupAttachMode;
use crate::kernel::permission::{
    AttachKind, Operation, PermissionHint, ProgramClass, is_permission_errno,
};

/// The instruction a verifier log names as the one it refused, shown with its neighbours in
/// the verifier's own format, taken from the instructions the library submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedInstruction {
    /// Its index among the submitted instructions (the numbering of the verifier log).
    pub index: usize,
    /// It and up to two instructions either side, one per line (`> 12: (79) r1 = ...` for
    /// the rejected one, `  11: ...` for the others).
    pub context: String,
}

impl std::fmt::Display for RejectedInstruction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\nthe verifier refused instruction {}:\n{}",
            self.index,
            self.context.trim_end()
        )
    }
}

/// A program could not be loaded, attached, detached or inspected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramError {
    /// The kernel refused with EPERM or EACCES; `hint` names the likely cause.
    #[error("permission denied; {hint}")]
    PermissionDenied {
        hint: PermissionHint,
        #[source]
        source: Box<ProgramError>,
    },

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

    #[error("relocating the program")]
    Relocation {
        program: String,
        #[source]
        source: Box<RelocationError>,
    },

    #[error(
        "program `{program}`: the kernel refused to load it{unsatisfied_core}{}",
        rejected.as_deref().map(RejectedInstruction::to_string).unwrap_or_default()
    )]
    Load {
        program: String,
        #[source]
        source: LoadError,
        /// Empty, or which CO-RE relocations could not be satisfied (a likely cause).
        unsatisfied_core: String,
        /// The instruction the verifier log names, with its neighbours.
        rejected: Option<Box<RejectedInstruction>>,
    },

    #[error(
        "program `{program}`: not supported by this kernel: program type {prog_type} \
         (its BTF has no such bpf_prog_type)"
    )]
    ProgramTypeNotSupported { program: String, prog_type: u32 },

    /// A load flag the running kernel does not know (found by a probe after EINVAL).
    #[error("program `{program}`: not supported by this kernel: load flag {}", flag.kernel_name())]
    LoadFlagNotSupported {
        program: String,
        flag: super::ProgramLoadFlags,
        #[source]
        source: LoadError,
    },

    /// A test run refused (by program type), failed, or given a too small output buffer.
    #[error(transparent)]
    TestRun(#[from] super::test_run::TestRunError),

    #[error("program `{program}`: not supported by this kernel: {feature}")]
    ProgramNotSupported {
        program: String,
        feature: &'static str,
    },

    #[error("program `{program}`: CO-RE target BTF")]
    CoreTarget {
        program: String,
        #[source]
        source: crate::kernel::KernelFactError,
    },

    #[error("program `{program}`: {what}")]
    ProgramSyscall {
        program: String,
        what: &'static str,
        #[source]
        source: SyscallError,
    },

    #[error("{what}")]
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

    /// The kernel runs a program once per target: this one is attached there already.
    #[error("program `{program}` is already attached to {target}")]
    AlreadyAttached {
        program: String,
        target: String,
        #[source]
        source: Option<SyscallError>,
    },

    /// The target holds another program, which attaching would replace (or which the kernel
    /// refuses to share the target with).
    #[error("program `{program}` not attached: {target} already has {occupant}; detach that first")]
    AttachPointBusy {
        program: String,
        target: String,
        occupant: String,
        #[source]
        source: Option<SyscallError>,
    },

    #[error(
        "program `{program}` has no link {id}: it was already detached or taken, or the id \
         belongs to another program"
    )]
    UnknownLink { program: String, id: String },

    /// A pin outside a BPF filesystem: pins can only live on one.
    #[error(
        "{object}: cannot pin at {}: {} is not on a BPF filesystem (pin under a bpffs mount, \
         e.g. /sys/fs/bpf; mount one with `mount -t bpf bpf /sys/fs/bpf`)",
        path.display(),
        directory.display()
    )]
    PinOutsideBpffs {
        /// What was to be pinned: "program `name`", "link".
        object: String,
        path: PathBuf,
        directory: PathBuf,
        #[source]
        source: SyscallError,
    },

    #[error("pinning at or opening the pin {path}")]
    Pin {
        path: PathBuf,
        #[source]
        source: SyscallError,
    },

    #[error("pinning at {}", path.display())]
    PinFilesystem {
        path: PathBuf,
        #[source]
        source: Box<crate::kernel::fs::KernelFsError>,
    },

    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("program `{program}`: kernel BTF")]
    KernelBtf {
        program: String,
        #[source]
        source: crate::kernel::KernelFactError,
    },

    #[error("program `{program}`: filling slot {index} of a prog array")]
    ProgramArraySlot {
        program: String,
        index: u32,
        #[source]
        source: crate::maps::MapError,
    },

    #[error(transparent)]
    TracePoint(Box<super::type_errors::TracePointError>),

    #[error(transparent)]
    RawTracePoint(#[from] super::type_errors::RawTracePointError),
    #[error(transparent)]
    BtfTracePoint(#[from] super::type_errors::BtfTracePointError),

    #[error(transparent)]
    KProbe(super::type_errors::KProbeError),
    #[error(transparent)]
    UProbe(super::type_errors::UProbeError),
    #[error(transparent)]
    Usdt(Box<super::type_errors::UsdtError>),
    #[error(transparent)]
    PerfEvent(super::type_errors::PerfEventError),

    #[error(transparent)]
    Iter(#[from] super::type_errors::IterError),

    #[error(transparent)]
    FEntry(#[from] super::type_errors::FEntryError),

    #[error(transparent)]
    Lsm(#[from] super::type_errors::LsmError),

    #[error(transparent)]
    Extension(#[from] super::type_errors::ExtensionError),

    #[error(transparent)]
    StructOps(#[from] bpf_core::obj::StructOpsProgramError),
    // networking, socket and cgroup program types
    #[error(transparent)]
    Xdp(super::type_errors::XdpError),

    #[error(transparent)]
    Tc(super::type_errors::TcError),

    #[error(transparent)]
    Netkit(super::type_errors::NetkitError),

    #[error(transparent)]
    CgroupAttach(CgroupAttachError),

    #[error(transparent)]
    SocketFilter(super::type_errors::SocketFilterError),

    #[error(transparent)]
    SkReuseport(super::type_errors::SkReuseportError),

    #[error(transparent)]
    SkSkb(#[from] super::type_errors::SkSkbError),

    #[error(transparent)]
    SkLookup(super::type_errors::SkLookupError),

    #[error(transparent)]
    FlowDissector(super::type_errors::FlowDissectorError),

    #[error(transparent)]
    Netfilter(super::type_errors::NetfilterError),
}

impl From<super::type_errors::TracePointError> for ProgramError {
    fn from(error: super::type_errors::TracePointError) -> ProgramError {
        ProgramError::TracePoint(Box::new(error))
    }
}

impl From<super::type_errors::UsdtError> for ProgramError {
    fn from(error: super::type_errors::UsdtError) -> ProgramError {
        ProgramError::Usdt(Box::new(error))
            .explain_denied(|| Operation::Attach(AttachKind::PerfEvent))
    }
}

impl From<super::type_errors::KProbeError> for ProgramError {
    fn from(error: super::type_errors::KProbeError) -> ProgramError {
        ProgramError::KProbe(error).explain_denied(|| Operation::Attach(AttachKind::PerfEvent))
    }
}

impl From<super::type_errors::UProbeError> for ProgramError {
    fn from(error: super::type_errors::UProbeError) -> ProgramError {
        ProgramError::UProbe(error).explain_denied(|| Operation::Attach(AttachKind::PerfEvent))
    }
}

impl From<super::type_errors::PerfEventError> for ProgramError {
    fn from(error: super::type_errors::PerfEventError) -> ProgramError {
        ProgramError::PerfEvent(error).explain_denied(|| Operation::Attach(AttachKind::PerfEvent))
    }
}

impl From<super::type_errors::XdpError> for ProgramError {
    fn from(error: super::type_errors::XdpError) -> ProgramError {
        ProgramError::Xdp(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::TcError> for ProgramError {
    fn from(error: super::type_errors::TcError) -> ProgramError {
        ProgramError::Tc(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::NetkitError> for ProgramError {
    fn from(error: super::type_errors::NetkitError) -> ProgramError {
        ProgramError::Netkit(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<CgroupAttachError> for ProgramError {
    fn from(error: CgroupAttachError) -> ProgramError {
        ProgramError::CgroupAttach(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::SkLookupError> for ProgramError {
    fn from(error: super::type_errors::SkLookupError) -> ProgramError {
        ProgramError::SkLookup(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::FlowDissectorError> for ProgramError {
    fn from(error: super::type_errors::FlowDissectorError) -> ProgramError {
        ProgramError::FlowDissector(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::NetfilterError> for ProgramError {
    fn from(error: super::type_errors::NetfilterError) -> ProgramError {
        ProgramError::Netfilter(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::SocketFilterError> for ProgramError {
    fn from(error: super::type_errors::SocketFilterError) -> ProgramError {
        ProgramError::SocketFilter(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl From<super::type_errors::SkReuseportError> for ProgramError {
    fn from(error: super::type_errors::SkReuseportError) -> ProgramError {
        ProgramError::SkReuseport(error).explain_denied(|| Operation::Attach(AttachKind::Network))
    }
}

impl ProgramError {
    /// The error of a refused pin of `object` at `path`: outside bpffs, or the kernel's.
    pub(crate) fn pin(
        object: impl FnOnce() -> String,
        path: &Path,
        source: SyscallError,
    ) -> ProgramError {
        match crate::kernel::fs::pin_directory_outside_bpffs(path) {
            Some(directory) => ProgramError::PinOutsideBpffs {
                object: object(),
                path: path.to_owned(),
                directory: directory.to_owned(),
                source,
            },
            None => ProgramError::Pin {
                path: path.to_owned(),
                source,
            }
            .explain_denied(|| Operation::Pin {
                path: path.to_owned(),
            }),
        }
    }

    /// Names `program` in an error from a helper that could not (a `Syscall` becomes a
    /// `ProgramSyscall`), so that every attach error says which program failed.
    pub(crate) fn of_program(self, program: &str) -> ProgramError {
        match self {
            ProgramError::Syscall { what, source } => ProgramError::ProgramSyscall {
                program: program.to_owned(),
                what,
                source,
            },
            ProgramError::PermissionDenied { hint, source } => ProgramError::PermissionDenied {
                hint,
                source: Box::new(source.of_program(program)),
            },
            other => other,
        }
    }

    /// Maps a syscall failure that belongs to no particular program.
    pub(crate) fn syscall(what: &'static str) -> impl FnOnce(SyscallError) -> ProgramError {
        move |source| {
            let operation = attach_operation(source.command, None);
            ProgramError::Syscall { what, source }.explain_denied_as(operation)
        }
    }

    /// Wraps the error in [`ProgramError::PermissionDenied`](crate::programs::ProgramError::PermissionDenied) when the kernel refused with
    /// EPERM or EACCES, with the likely cause decided now from the process's facts.
    pub(crate) fn explain_denied(self, operation: impl FnOnce() -> Operation) -> ProgramError {
        if !is_permission_errno(self.errno()) {
            return self;
        }
        ProgramError::PermissionDenied {
            hint: crate::kernel::permission::hint(operation()),
            source: Box::new(self),
        }
    }

    /// [`explain_denied`](Self::explain_denied) for an operation known only for some commands.
    pub(crate) fn explain_denied_as(self, operation: Option<Operation>) -> ProgramError {
        match operation {
            Some(operation) => self.explain_denied(|| operation),
            None => self,
        }
    }

    /// The errno behind the error, if a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            ProgramError::PermissionDenied { source, .. } => source.errno(),
            ProgramError::Load { source, .. } => source.errno(),
            ProgramError::ProgramSyscall { source, .. }
            | ProgramError::Syscall { source, .. }
            | ProgramError::ById { source, .. }
            | ProgramError::Pin { source, .. }
            | ProgramError::PinOutsideBpffs { source, .. } => source.errno(),
            ProgramError::Io { source, .. } => source.raw_os_error(),
            ProgramError::AlreadyAttached { source, .. }
            | ProgramError::AttachPointBusy { source, .. } => {
                source.as_ref().and_then(SyscallError::errno)
            }
            other => errno_in_chain(other),
        }
    }

    /// The likely cause of an EPERM/EACCES refusal.
    pub fn permission_hint(&self) -> Option<&PermissionHint> {
        match self {
            ProgramError::PermissionDenied { hint, .. } => Some(hint),
            _ => None,
        }
    }

    /// The instruction the verifier refused and its neighbours, when its log names one.
    pub fn rejected_instruction(&self) -> Option<&RejectedInstruction> {
        match self {
            ProgramError::Load { rejected, .. } => rejected.as_deref(),
            ProgramError::PermissionDenied { source, .. } => source.rejected_instruction(),
            _ => None,
        }
    }

    /// The verifier log, when the kernel refused the program.
    pub fn verifier_log(&self) -> Option<&bpf_sys::VerifierLog> {
        match self {
            ProgramError::Load { source, .. } => Some(&source.verifier_log),
            ProgramError::PermissionDenied { source, .. } => source.verifier_log(),
            _ => None,
        }
    }
}

/// The errno of the first system call failure among `error`'s sources.
fn errno_in_chain(error: &dyn std::error::Error) -> Option<i32> {
    let mut next = error.source();
    while let Some(error) = next {
        if let Some(e) = error.downcast_ref::<SyscallError>() {
            return e.errno();
        }
        if let Some(e) = error.downcast_ref::<LoadError>() {
            return e.errno();
        }
        if let Some(errno) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
        {
            return Some(errno);
        }
        next = error.source();
    }
    None
}

/// The attachment a failed command was part of; `None` for commands that attach nothing.
pub(crate) fn attach_operation(command: Command, prog_type: Option<u32>) -> Option<Operation> {
    use bpf_sys::BpfCommand;
    let kind = match command {
        Command::PerfEventOpen | Command::PerfEventIoctl(_) => AttachKind::PerfEvent,
        Command::Netlink(_) | Command::Setsockopt(_) => AttachKind::Network,
        Command::Bpf(BpfCommand::RawTracepointOpen) => AttachKind::Tracing,
        Command::Bpf(BpfCommand::LinkCreate | BpfCommand::ProgAttach) => {
            match prog_type.map(crate::kernel::permission::program_class) {
                Some(ProgramClass::Tracing) => AttachKind::Tracing,
                Some(ProgramClass::Networking) => AttachKind::Network,
                _ => AttachKind::Bpf,
            }
        }
        _ => return None,
    };
    Some(Operation::Attach(kind))
}

/// Why a cgroup program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum CgroupAttachError {
    #[error(
        "program `{program}` has no attach type (opened from a pin, or a section without one); \
         pass one explicitly"
    )]
    NoAttachType { program: String },
    #[error("program `{program}`: attaching to the cgroup ({attach_type})")]
    Attach {
        program: String,
        attach_type: &'static str,
        #[source]
        source: Box<ProgramError>,
    },
    #[error(
        "program `{program}` ({attach_type}): the fd given is not a cgroup; open a directory \
         of the cgroup v2 hierarchy (e.g. under /sys/fs/cgroup)"
    )]
    NotACgroup {
        program: String,
        attach_type: &'static str,
        #[source]
        source: Box<ProgramError>,
    },
    #[error(
        "program `{program}` ({attach_type}): {mode:?} is enforced only by BPF_PROG_ATTACH; a \
         cgroup bpf_link always lets other programs run too (use CgroupAttachMode::AllowMultiple \
         for a link, or AttachMethod::Auto or Legacy)"
    )]
    ModeNeedsProgAttach {
        program: String,
        attach_type: &'static str,
        mode: CgroupAttachMode,
    },
}

impl CgroupAttachError {
    /// The errno behind the error, if a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            CgroupAttachError::Attach { source, .. }
            | CgroupAttachError::NotACgroup { source, .. } => source.errno(),
            _ => None,
        }
    }
}
