//! eBPF program types: one module per type, each with its typed `attach`.
//!
//! Every typed program is a [`TypedProgram<K>`](TypedProgram) holding a [`ProgramData`], which
//! holds the one load path shared by all types; `KProbe` is `TypedProgram<KProbeKind>`, and so
//! on. Programs reach the kernel only when `load()` is called; relocation happens then, per
//! program.
//!
//! Why a generic struct and not a trait with default methods: a trait's methods need the trait
//! in scope, so `program.load()` / `program.pin(..)` would need an extra import in every user's
//! code; inherent methods of `TypedProgram<K>` need none, and each is written once
//! (`fn load`, `fn pin`, `fn fd`, ... in `typed_program.rs`, found by grep). What differs per
//! type lives in its kind: [`ProgramKind::load`] for the types whose load sets a target first
//! (tp_btf, fentry/fexit/fmod_ret, lsm, iter, struct_ops), and the type's own `impl` block for
//! `attach`. Families that attach alike share one generic `impl`: cgroup programs
//! ([`CgroupProgramKind`], in `cgroup_attach.rs`) and function tracers ([`FunctionTracerKind`],
//! in `btf_target.rs`; their `attach` is a one-line forward, as two generic `attach` methods
//! would overlap).
//!
//! Adding a program type (see `raw_tracepoint.rs` for the smallest complete example):
//! 1. a module with `define_link_wrapper!(FooLink, FooLinkId, FdLink)` (or another inner link
//!    kind: [`perf_attach::PerfLinkInner`], or an [`Attachment`] of a type implementing
//!    [`Detach`] for attachments ended by a request, e.g. `BPF_PROG_ATTACH` or netlink; never a
//!    hand-written `Drop` or `mem::forget`: `Attachment` makes the request once and closes
//!    every fd on every path);
//! 2. the kind and the alias: `pub enum FooKind {}`, `impl ProgramKind for FooKind { type Link
//!    = FooLink; }` (override `fn load` only to set `data.expected_attach_type`/`attach_btf_id`
//!    first), `impl LoadWithoutArguments for FooKind {}` unless loading needs arguments, and
//!    `pub type Foo = TypedProgram<FooKind>;` with the type's docs;
//! 3. `impl Foo { pub fn attach(..) -> Result<FooLinkId, ProgramError> }`, inserting into
//!    `self.data.links`;
//! 4. a `FooError` enum in `type_errors.rs` (what it carries, if the type's own, in
//!    `attach_options.rs`), re-exported by the type's module (`pub use
//!    super::type_errors::FooError;`) and wrapped by a `ProgramError::Foo(FooError)` variant
//!    (`#[from]`, or a `From` adding the permission hint when it carries a kernel refusal): the
//!    error files sit below the type files, so nothing in `programs/` imports back;
//! 5. a line in `program_types!` and in `Program::from_section`.

mod attach_options;
mod auto_attach;
pub(crate) mod btf_target;
pub mod code;
mod data;
mod error;
mod info;
pub mod links;
mod load_flags;
pub mod perf_attach;
pub mod probe_event;
mod test_run;
mod type_errors;
mod typed_program;

pub mod btf_tracepoint;
pub mod extension;
pub mod fentry;
pub mod fexit;
pub mod fmod_ret;
pub mod iter;
pub mod kernel_functions;
pub mod kprobe;
pub mod lsm;
pub mod perf_event;
pub mod raw_tracepoint;
pub mod struct_ops;
pub mod syscall;
pub mod tracepoint;
pub mod unsupported;
pub mod uprobe;
mod uprobe_resolve;
pub mod usdt;

// networking, socket and cgroup program types
pub mod cgroup_attach;
pub mod cgroup_device;
pub mod cgroup_skb;
pub mod cgroup_sock;
pub mod cgroup_sock_addr;
pub mod cgroup_sockopt;
pub mod cgroup_sysctl;
pub mod flow_dissector;
pub mod lirc_mode2;
pub mod netfilter;
pub mod netkit;
mod netns_anchor;
pub mod prog_attach_link;
pub mod sched_classifier;
pub mod sk_lookup;
pub mod sk_msg;
pub mod sk_reuseport;
pub mod sk_skb;
pub mod sock_ops;
pub mod socket_filter;
pub mod xdp;

use std::path::Path;

pub(crate) use crate::loader::LoadSession;
pub use auto_attach::AttachFromSection;
pub use bpf_core::disasm::ListingOptions;
pub use bpf_core::obj::ProgramSection;
pub use code::{ProgramCode, ProgramFunction, SourceLine};
pub use data::{ProgramData, ProgramFd, VerifierLogLevel};
pub use error::{ProgramError, RejectedInstruction};
pub use info::{ProgramInfo, enable_run_stats, loaded_programs, program_fd_by_id};
pub use links::{Attachment, Detach, FdLink, Link, LinkInfo, PinnedLink, loaded_links};
pub use load_flags::ProgramLoadFlags;
pub use test_run::{TestRunError, TestRunFlags, TestRunOptions, TestRunOutput};
pub use typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

pub use btf_target::FunctionTracerKind;
pub use btf_tracepoint::{BtfTracePoint, BtfTracePointError};
pub use extension::{Extension, ExtensionError};
pub use fentry::{FEntry, FEntryError};
pub use fexit::FExit;
pub use fmod_ret::FModRet;
pub use iter::{Iter, IterError, IterLink, IterLinkId};
pub use kprobe::{KProbe, KProbeError, KProbeMulti};
pub use lsm::{Lsm, LsmError};
pub use perf_event::{PerfEvent, PerfEventError, PerfEventScope, PerfTypeId, SamplePolicy};
pub use probe_event::ProbeAttachMethod;
pub use raw_tracepoint::{RawTracePoint, RawTracePointError};
pub use struct_ops::{StructOpsProgram, StructOpsProgramError};
pub use syscall::Syscall;
pub use tracepoint::{TracePoint, TracePointError};
pub use unsupported::{UnknownProgram, UnsupportedProgram};
pub use uprobe::{ProbeKind, UProbe, UProbeError, UProbeLocation, UProbeMulti};
pub use usdt::{Usdt, UsdtError, UsdtLink, UsdtLinkId};

// networking, socket and cgroup program types
pub use cgroup_attach::{CgroupAttachError, CgroupAttachMode, CgroupProgramKind};
pub use cgroup_device::CgroupDevice;
pub use cgroup_skb::{CgroupSkb, CgroupSkbAttachType};
pub use cgroup_sock::CgroupSock;
pub use cgroup_sock_addr::CgroupSockAddr;
pub use cgroup_sockopt::CgroupSockopt;
pub use cgroup_sysctl::CgroupSysctl;
pub use flow_dissector::{FlowDissector, FlowDissectorError};
pub use lirc_mode2::LircMode2;
pub use netfilter::{
    Netfilter, NetfilterAttachOptions, NetfilterError, NetfilterFamily, NetfilterHook,
};
pub use netkit::{Netkit, NetkitAttachType, NetkitError};
pub use prog_attach_link::{AttachMethod, LinkOrAttachment, ProgAttachLink};
pub use sched_classifier::{
    SchedClassifier, TcAttachOptions, TcAttachType, TcError, qdisc_add_clsact, qdisc_remove_clsact,
};
pub use sk_lookup::{SkLookup, SkLookupError};
pub use sk_msg::SkMsg;
pub use sk_reuseport::{SkReuseport, SkReuseportError};
pub use sk_skb::{SkSkb, SkSkbError, SkSkbKind};
pub use sock_ops::SockOps;
pub use socket_filter::{SocketFilter, SocketFilterError};
pub use xdp::{Xdp, XdpError, XdpFlags};

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

            /// Whether [`Bpf::load_all`](crate::Bpf::load_all) and
            /// [`Bpf::attach_all`](crate::Bpf::attach_all) take this program: false for libbpf's
            /// `SEC("?...")`, unless changed with [`set_autoload`](Self::set_autoload).
            pub fn autoload(&self) -> bool {
                match self {
                    $(Program::$variant(p) => AttachFromSection::autoload(p),)*
                }
            }

            /// Includes or leaves out this program from `load_all` and `attach_all` (libbpf's
            /// `bpf_program__set_autoload`), e.g. the kprobe twin of an fentry program the kernel
            /// has; left out, it is not loaded unless asked for by name. Before load, the same
            /// setting is [`OpenProgramMut::set_autoload`](crate::OpenProgramMut::set_autoload).
            pub fn set_autoload(&mut self, autoload: bool) {
                match self {
                    $(Program::$variant(p) => AttachFromSection::set_autoload(p, autoload),)*
                }
            }

            /// Loads the program if it is not yet loaded and attaches it at the target its
            /// section names (see [`AttachFromSection::attach_from_section`]).
            pub fn attach_from_section(&mut self) -> Result<bool, ProgramError> {
                match self {
                    $(Program::$variant(p) => AttachFromSection::attach_from_section(p),)*
                }
            }

            /// Loads the program into the kernel (type-specific arguments at their defaults).
            pub fn load(&mut self) -> Result<(), ProgramError> {
                match self {
                    $(Program::$variant(p) => p.load_as_kind(),)*
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

            /// Runs the loaded program under `BPF_PROG_TEST_RUN` (see [`TestRunOptions`]).
            pub fn test_run(
                &self,
                options: TestRunOptions<'_>,
            ) -> Result<TestRunOutput, ProgramError> {
                match self {
                    $(Program::$variant(p) => p.data.test_run(options),)*
                }
            }

            /// Sets the load flags of the next load, added to those the section implies.
            pub fn set_load_flags(&mut self, flags: ProgramLoadFlags) {
                match self {
                    $(Program::$variant(p) => p.data.set_load_flags(flags),)*
                }
            }

            /// The load flags set for the next load (by the loader or `set_load_flags`).
            pub fn load_flags(&self) -> ProgramLoadFlags {
                match self {
                    $(Program::$variant(p) => p.data.load_flags(),)*
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
    KProbe(KProbe) => "kprobe",
    KProbeMulti(KProbeMulti) => "kprobe.multi",
    UProbe(UProbe) => "uprobe",
    UProbeMulti(UProbeMulti) => "uprobe.multi",
    Usdt(Usdt) => "usdt",
    TracePoint(TracePoint) => "tracepoint",
    RawTracePoint(RawTracePoint) => "raw_tracepoint",
    BtfTracePoint(BtfTracePoint) => "tp_btf",
    FEntry(FEntry) => "fentry",
    FExit(FExit) => "fexit",
    FModRet(FModRet) => "fmod_ret",
    Lsm(Lsm) => "lsm",
    PerfEvent(PerfEvent) => "perf_event",
    Extension(Extension) => "freplace",
    Iter(Iter) => "iter",
    Syscall(Syscall) => "syscall",
    StructOps(StructOpsProgram) => "struct_ops",
    // networking, socket and cgroup program types
    Xdp(Xdp) => "xdp",
    SchedClassifier(SchedClassifier) => "sched_cls",
    CgroupSkb(CgroupSkb) => "cgroup_skb",
    CgroupSock(CgroupSock) => "cgroup_sock",
    CgroupSockAddr(CgroupSockAddr) => "cgroup_sock_addr",
    CgroupSockopt(CgroupSockopt) => "cgroup_sockopt",
    CgroupSysctl(CgroupSysctl) => "cgroup_sysctl",
    CgroupDevice(CgroupDevice) => "cgroup_device",
    SockOps(SockOps) => "sock_ops",
    SkMsg(SkMsg) => "sk_msg",
    SkSkb(SkSkb) => "sk_skb",
    SocketFilter(SocketFilter) => "socket_filter",
    SkLookup(SkLookup) => "sk_lookup",
    FlowDissector(FlowDissector) => "flow_dissector",
    SkReuseport(SkReuseport) => "sk_reuseport",
    Netfilter(Netfilter) => "netfilter",
    Netkit(Netkit) => "netkit",
    LircMode2(LircMode2) => "lirc_mode2",
    Unsupported(UnsupportedProgram) => "unsupported",
    Unknown(UnknownProgram) => "unknown",
}

impl Program {
    /// Builds the typed program a section name calls for.
    pub(crate) fn from_section(data: data::UntypedData) -> Program {
        use ProgramSection as S;
        match data.section.clone() {
            S::KProbe { .. } | S::KSyscall { .. } => Program::KProbe(KProbe::new(data.typed())),
            S::KProbeMulti { .. } => Program::KProbeMulti(KProbeMulti::new(data.typed())),
            S::UProbe { .. } => Program::UProbe(UProbe::new(data.typed())),
            S::UProbeMulti { .. } => Program::UProbeMulti(UProbeMulti::new(data.typed())),
            S::Usdt { .. } => Program::Usdt(Usdt::new(data.typed())),
            S::TracePoint { .. } => Program::TracePoint(TracePoint::new(data.typed())),
            S::RawTracePoint { .. } => Program::RawTracePoint(RawTracePoint::new(data.typed())),
            S::BtfTracePoint { .. } => Program::BtfTracePoint(BtfTracePoint::new(data.typed())),
            S::FEntry { .. } => Program::FEntry(FEntry::new(data.typed())),
            S::FExit { .. } => Program::FExit(FExit::new(data.typed())),
            S::FModRet { .. } => Program::FModRet(FModRet::new(data.typed())),
            S::Lsm { .. } => Program::Lsm(Lsm::new(data.typed())),
            S::PerfEvent => Program::PerfEvent(PerfEvent::new(data.typed())),
            S::Extension { .. } => Program::Extension(Extension::new(data.typed())),
            S::Iter { .. } => Program::Iter(Iter::new(data.typed())),
            S::Syscall => Program::Syscall(Syscall::new(data.typed())),
            S::StructOps { .. } => Program::StructOps(StructOpsProgram::new(data.typed())),
            // networking, socket and cgroup program types
            S::Xdp { .. } => Program::Xdp(Xdp::new(data.typed())),
            S::SchedClassifier | S::Tcx { .. } => {
                Program::SchedClassifier(SchedClassifier::new(data.typed()))
            }
            S::CgroupSkb { .. } => Program::CgroupSkb(CgroupSkb::new(data.typed())),
            S::CgroupSock { .. } => Program::CgroupSock(CgroupSock::new(data.typed())),
            S::CgroupSockAddr { .. } => Program::CgroupSockAddr(CgroupSockAddr::new(data.typed())),
            S::CgroupSockopt { .. } => Program::CgroupSockopt(CgroupSockopt::new(data.typed())),
            S::CgroupSysctl => Program::CgroupSysctl(CgroupSysctl::new(data.typed())),
            S::CgroupDevice => Program::CgroupDevice(CgroupDevice::new(data.typed())),
            S::SockOps => Program::SockOps(SockOps::new(data.typed())),
            S::SkMsg => Program::SkMsg(SkMsg::new(data.typed())),
            S::SkSkb { .. } => Program::SkSkb(SkSkb::new(data.typed())),
            S::SocketFilter => Program::SocketFilter(SocketFilter::new(data.typed())),
            S::SkLookup => Program::SkLookup(SkLookup::new(data.typed())),
            S::FlowDissector => Program::FlowDissector(FlowDissector::new(data.typed())),
            S::SkReuseport { .. } => Program::SkReuseport(SkReuseport::new(data.typed())),
            S::Netfilter => Program::Netfilter(Netfilter::new(data.typed())),
            S::Netkit { .. } => Program::Netkit(Netkit::new(data.typed())),
            S::LircMode2 => Program::LircMode2(LircMode2::new(data.typed())),
            S::Unknown(_) => Program::Unknown(UnknownProgram::new(data.typed())),
            _ => Program::Unsupported(UnsupportedProgram::new(data.typed())),
        }
    }
}

/// Untyped program state for [`Program::from_section`].
pub(crate) fn data_for(
    name: String,
    section: ProgramSection,
    context: std::sync::Arc<LoadSession>,
    log_level: VerifierLogLevel,
    load_flags: ProgramLoadFlags,
) -> data::UntypedData {
    data::UntypedData {
        name,
        section,
        context,
        log_level,
        load_flags,
    }
}
