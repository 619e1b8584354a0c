//! eBPF program types: one module per type, each with its typed `attach`.
//!
//! Every typed program wraps a [`ProgramData`], which holds the one load path shared by all
//! types; a type's module only adds how it attaches and its own error enum. Programs reach the
//! kernel only when `load()` is called; relocation happens then, per program.

mod data;
mod error;
mod info;
pub(crate) mod kernel_btf;
pub mod links;
pub mod perf_attach;

// TODO pub mod btf_tracepoint;
// TODO pub mod extension;
// TODO pub mod fentry;
// TODO pub mod fexit;
// TODO pub mod fmod_ret;
// TODO pub mod iter;
// TODO pub mod kprobe;
// TODO pub mod lsm;
// TODO pub mod perf_event;
pub mod raw_tracepoint;
// TODO pub mod syscall;
pub mod tracepoint;
pub mod unsupported;
pub mod uprobe;
mod uprobe_resolve;

use std::path::Path;

pub use bpf_core::obj::ProgramSection;
pub(crate) use data::ObjectContext;
pub use data::{ProgramData, ProgramFd, VerifierLogLevel};
pub use error::ProgramError;
pub use info::{ProgramInfo, loaded_programs};
pub use links::{FdLink, Link, LinkInfo, PinnedLink, loaded_links};

// TODO pub use btf_tracepoint::{BtfTracePoint, BtfTracePointError};
// TODO pub use extension::{Extension, ExtensionError};
// TODO pub use fentry::{FEntry, FEntryError};
// TODO pub use fexit::FExit;
// TODO pub use fmod_ret::FModRet;
// TODO pub use iter::{Iter, IterError};
// TODO pub use kprobe::{KProbe, KProbeError, KProbeMulti};
// TODO pub use lsm::{Lsm, LsmError};
// TODO pub use perf_event::{PerfEvent, PerfEventError, PerfEventScope, PerfTypeId, SamplePolicy};
pub use raw_tracepoint::{RawTracePoint, RawTracePointError};
// TODO pub use syscall::Syscall;
pub use tracepoint::{TracePoint, TracePointError};
pub use unsupported::{UnknownProgram, UnsupportedProgram};
pub use uprobe::{ProbeKind, UProbe, UProbeError, UProbeLocation, UProbeMulti};

/// How a typed program is loaded when the caller does not pass type-specific arguments.
pub(crate) trait DefaultLoad {
    fn load_default(&mut self) -> Result<(), ProgramError>;
}

/// Generates the inherent methods every typed program shares.
macro_rules! impl_program_common {
    ($ty:ident, $link:ty) => {
        impl $ty {
            /// The program's name (its function's name in the object).
            pub fn name(&self) -> &str {
                self.data.name()
            }

            /// The program's fd, once loaded.
            pub fn fd(
                &self,
            ) -> Result<&$crate::programs::ProgramFd, $crate::programs::ProgramError> {
                self.data.fd()
            }

            /// The kernel's view of the loaded program.
            pub fn info(
                &self,
            ) -> Result<$crate::programs::ProgramInfo, $crate::programs::ProgramError> {
                self.data.info()
            }

            /// Pins the loaded program at `path` (inside bpffs).
            pub fn pin(
                &mut self,
                path: impl AsRef<std::path::Path>,
            ) -> Result<(), $crate::programs::ProgramError> {
                self.data.pin(path.as_ref())
            }

            /// Removes the pin made by [`pin`](Self::pin).
            pub fn unpin(&mut self) -> Result<(), $crate::programs::ProgramError> {
                self.data.unpin()
            }

            /// Opens a program of this type pinned at `path`; it can be attached but not reloaded.
            pub fn from_pin(
                path: impl AsRef<std::path::Path>,
            ) -> Result<Self, $crate::programs::ProgramError> {
                let data = $crate::programs::ProgramData::from_pin(path.as_ref())?;
                Ok($ty { data })
            }

            /// Detaches every link and unloads the program (the kernel frees it once unreferenced).
            pub fn unload(&mut self) -> Result<(), $crate::programs::ProgramError> {
                self.data.unload()
            }

            /// Detaches the link `link_id` returned by `attach`.
            pub fn detach(
                &mut self,
                link_id: <$link as $crate::programs::Link>::Id,
            ) -> Result<(), $crate::programs::ProgramError> {
                self.data.links.remove(link_id)
            }

            /// Takes ownership of a link so that it outlives the program (it detaches on drop).
            pub fn take_link(
                &mut self,
                link_id: <$link as $crate::programs::Link>::Id,
            ) -> Result<$link, $crate::programs::ProgramError> {
                self.data.links.take(link_id)
            }

            /// What the verifier said at the last load (empty unless a log level was set).
            pub fn verifier_log(&self) -> &bpf_sys::VerifierLog {
                &self.data.verifier_log
            }

            /// Shared program state (section, fd, links).
            pub fn data(&self) -> &$crate::programs::ProgramData<$link> {
                &self.data
            }

            /// Shared program state, mutably (e.g. to set the verifier log level).
            pub fn data_mut(&mut self) -> &mut $crate::programs::ProgramData<$link> {
                &mut self.data
            }
        }
    };
}
pub(crate) use impl_program_common;

macro_rules! program_types {
    ($($variant:ident($ty:ident) => $label:literal,)*) => {
        /// A program of a loaded object; the variant is its type (from the section name).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum Program {
            $(
                #[doc = concat!("A ", $label, " program.")]
                $variant($ty),
            )*
        }

        impl Program {
            /// The program type's name, as used in errors.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(Program::$variant(_) => $label,)*
                }
            }

            /// The program's name.
            pub fn name(&self) -> &str {
                match self {
                    $(Program::$variant(p) => p.data.name(),)*
                }
            }

            /// The section the program came from, as parsed.
            pub fn section(&self) -> Option<&ProgramSection> {
                match self {
                    $(Program::$variant(p) => p.data.section(),)*
                }
            }

            /// Loads the program into the kernel (type-specific arguments at their defaults).
            pub fn load(&mut self) -> Result<(), ProgramError> {
                match self {
                    $(Program::$variant(p) => DefaultLoad::load_default(p),)*
                }
            }

            /// Unloads the program and detaches its links.
            pub fn unload(&mut self) -> Result<(), ProgramError> {
                match self {
                    $(Program::$variant(p) => p.data.unload(),)*
                }
            }

            /// The program fd, once loaded.
            pub fn fd(&self) -> Result<&ProgramFd, ProgramError> {
                match self {
                    $(Program::$variant(p) => p.data.fd(),)*
                }
            }

            /// The kernel's view of the loaded program.
            pub fn info(&self) -> Result<ProgramInfo, ProgramError> {
                match self {
                    $(Program::$variant(p) => p.data.info(),)*
                }
            }

            /// Pins the loaded program.
            pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), ProgramError> {
                match self {
                    $(Program::$variant(p) => p.data.pin(path.as_ref()),)*
                }
            }

            /// Sets the verifier log level of the next load.
            pub fn set_verifier_log_level(&mut self, level: VerifierLogLevel) {
                match self {
                    $(Program::$variant(p) => p.data.log_level = level,)*
                }
            }
        }

        $(
            impl<'a> TryFrom<&'a Program> for &'a $ty {
                type Error = ProgramError;

                fn try_from(program: &'a Program) -> Result<&'a $ty, ProgramError> {
                    match program {
                        Program::$variant(p) => Ok(p),
                        other => Err(ProgramError::UnexpectedProgramType {
                            program: other.name().to_owned(),
                            expected: $label,
                            actual: other.type_name(),
                        }),
                    }
                }
            }

            impl<'a> TryFrom<&'a mut Program> for &'a mut $ty {
                type Error = ProgramError;

                fn try_from(program: &'a mut Program) -> Result<&'a mut $ty, ProgramError> {
                    match program {
                        Program::$variant(p) => Ok(p),
                        other => Err(ProgramError::UnexpectedProgramType {
                            program: other.name().to_owned(),
                            expected: $label,
                            actual: other.type_name(),
                        }),
                    }
                }
            }

            impl TryFrom<Program> for $ty {
                type Error = ProgramError;

                fn try_from(program: Program) -> Result<$ty, ProgramError> {
                    match program {
                        Program::$variant(p) => Ok(p),
                        other => Err(ProgramError::UnexpectedProgramType {
                            program: other.name().to_owned(),
                            expected: $label,
                            actual: other.type_name(),
                        }),
                    }
                }
            }
        )*
    };
}

program_types! {
    // TODO KProbe(KProbe) => "kprobe",
    // TODO KProbeMulti(KProbeMulti) => "kprobe.multi",
    UProbe(UProbe) => "uprobe",
    UProbeMulti(UProbeMulti) => "uprobe.multi",
    TracePoint(TracePoint) => "tracepoint",
    RawTracePoint(RawTracePoint) => "raw_tracepoint",
    // TODO BtfTracePoint(BtfTracePoint) => "tp_btf",
    // TODO FEntry(FEntry) => "fentry",
    // TODO FExit(FExit) => "fexit",
    // TODO FModRet(FModRet) => "fmod_ret",
    // TODO Lsm(Lsm) => "lsm",
    // TODO PerfEvent(PerfEvent) => "perf_event",
    // TODO Extension(Extension) => "freplace",
    // TODO Iter(Iter) => "iter",
    // TODO Syscall(Syscall) => "syscall",
    Unsupported(UnsupportedProgram) => "unsupported",
    Unknown(UnknownProgram) => "unknown",
}

impl Program {
    /// Builds the typed program a section name calls for.
    pub(crate) fn from_section(data: data::UntypedData) -> Program {
        use ProgramSection as S;
        match data.section.clone() {
            // TODO S::KProbe { .. } | S::KSyscall { .. } => Program::KProbe(KProbe::new(data.typed())),
            // TODO S::KProbeMulti { .. } => Program::KProbeMulti(KProbeMulti::new(data.typed())),
            S::UProbe { .. } => Program::UProbe(UProbe::new(data.typed())),
            S::UProbeMulti { .. } => Program::UProbeMulti(UProbeMulti::new(data.typed())),
            S::TracePoint { .. } => Program::TracePoint(TracePoint::new(data.typed())),
            S::RawTracePoint { .. } => Program::RawTracePoint(RawTracePoint::new(data.typed())),
            // TODO S::BtfTracePoint { .. } => Program::BtfTracePoint(BtfTracePoint::new(data.typed())),
            // TODO S::FEntry { .. } => Program::FEntry(FEntry::new(data.typed())),
            // TODO S::FExit { .. } => Program::FExit(FExit::new(data.typed())),
            // TODO S::FModRet { .. } => Program::FModRet(FModRet::new(data.typed())),
            // TODO S::Lsm { .. } => Program::Lsm(Lsm::new(data.typed())),
            // TODO S::PerfEvent => Program::PerfEvent(PerfEvent::new(data.typed())),
            // TODO S::Extension { .. } => Program::Extension(Extension::new(data.typed())),
            // TODO S::Iter { .. } => Program::Iter(Iter::new(data.typed())),
            // TODO S::Syscall => Program::Syscall(Syscall::new(data.typed())),
            S::Unknown(_) => Program::Unknown(UnknownProgram::new(data.typed())),
            _ => Program::Unsupported(UnsupportedProgram::new(data.typed())),
        }
    }
}

/// Untyped program state for [`Program::from_section`].
pub(crate) fn data_for(
    name: String,
    section: ProgramSection,
    context: std::sync::Arc<ObjectContext>,
    log_level: VerifierLogLevel,
) -> data::UntypedData {
    data::UntypedData {
        name,
        section,
        context,
        log_level,
    }
}
