//! The error enum of each program type, below `error.rs` (which wraps each in a
//! `ProgramError` variant) so that the types' modules can return `ProgramError`; each type's
//! module re-exports its own.

use std::path::PathBuf;

use bpf_core::usdt::SpecLayoutError;
use bpf_core::usdt::layout::{IP_TO_SPEC_ID_MAP, SPECS_MAP};

use super::attach_options::{
    NetfilterAttachOptions, NetkitAttachType, PerfEventScope, TcAttachType, XdpFlags,
};
use crate::kernel::fs::KernelFsError;

/// Why a BTF tracepoint could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BtfTracePointError {
    #[error(
        "program `{program}`: the kernel has no tracepoint `{name}` (no btf_trace_{name} in its BTF)"
    )]
    NotFound { program: String, name: String },
    #[error("program `{program}` names no tracepoint in its section; use load_target")]
    NoTarget { program: String },
}

/// Why an extension could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ExtensionError {
    #[error("program `{program}`: the target program has no BTF (it must be loaded with BTF)")]
    TargetWithoutBtf { program: String },
    #[error("program `{program}`: the target program has no function `{function}`")]
    FunctionNotFound { program: String, function: String },
    #[error("program `{program}`: reading the target's BTF: {reason}")]
    TargetBtf { program: String, reason: String },
    #[error("program `{program}` needs a target: use Extension::load(target_fd, function)")]
    NeedsTarget { program: String },
}

/// Why a function tracer (fentry, fexit, fmod_ret) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FEntryError {
    #[error(
        "program `{program}`: no function `{function}` in kernel, module or target program BTF"
    )]
    FunctionNotFound { program: String, function: String },
    #[error("program `{program}` names no kernel function in its section; use load_target")]
    NoTarget { program: String },
    #[error("program `{program}`: the target program has no BTF (it must be loaded with BTF)")]
    TargetWithoutBtf { program: String },
    #[error("program `{program}`: reading the target program's BTF: {reason}")]
    TargetBtf { program: String, reason: String },
}

/// Why a flow dissector could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum FlowDissectorError {
    #[error("attaching flow dissector `{program}` to the network namespace")]
    Attach {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

/// Why an iterator could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IterError {
    #[error(
        "program `{program}`: the kernel has no iterator `{target}` (no bpf_iter_{target} in BTF)"
    )]
    TargetNotFound { program: String, target: String },
    #[error("program `{program}` names no iterator target in its section; use load_target")]
    NoTarget { program: String },
}

/// Why a kprobe could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum KProbeError {
    #[error("program `{program}`: no kernel function `{function}` can be probed")]
    FunctionNotFound { program: String, function: String },
    #[error("program `{program}`: kprobe on `{function}`+{offset:#x}")]
    Attach {
        program: String,
        function: String,
        offset: u64,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("program `{program}` names no kernel function in its section; pass one to attach")]
    NoTarget { program: String },
    #[error(
        "program `{program}`: kprobe on `{function}`+{offset:#x}: creating the tracefs probe event"
    )]
    ProbeEvent {
        program: String,
        function: String,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
}

/// Why an LSM program could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LsmError {
    #[error("program `{program}`: the kernel has no LSM hook `{hook}` (no bpf_lsm_{hook} in BTF)")]
    HookNotFound { program: String, hook: String },
    #[error("program `{program}` names no LSM hook in its section; use load_hook")]
    NoTarget { program: String },
}

/// Why a raw tracepoint could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum RawTracePointError {
    #[error("program `{program}`: raw tracepoint `{name}` does not exist")]
    NotFound { program: String, name: String },
    #[error("program `{program}` has no tracepoint in its section name; pass one to attach")]
    NoTarget { program: String },
}

/// Why an `sk_lookup` program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SkLookupError {
    #[error("attaching sk_lookup program `{program}` to the network namespace")]
    Attach {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

/// Why a socket filter could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SkReuseportError {
    #[error("SO_ATTACH_REUSEPORT_EBPF of program `{program}`")]
    Attach {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("duplicating the socket fd")]
    DupSocket(#[source] std::io::Error),
}

/// Why an `sk_skb` program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SkSkbError {
    #[error("program `{program}`: its section names no sk_skb hook; use `attach_as`")]
    NoKind { program: String },
}

/// Why a socket filter could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SocketFilterError {
    #[error("SO_ATTACH_BPF of program `{program}`")]
    Attach {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("duplicating the socket fd")]
    DupSocket(#[source] std::io::Error),
}

/// Why a tracepoint could not be attached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TracePointError {
    #[error(
        "program `{program}`: tracepoint `{category}/{name}`: no such event in {}/events",
        tracefs.display()
    )]
    NotFound {
        program: String,
        category: String,
        name: String,
        tracefs: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "program `{program}`: tracepoint `{category}/{name}`: tracefs, which lists tracepoint \
         ids, is unavailable"
    )]
    TraceFs {
        program: String,
        category: String,
        name: String,
        #[source]
        source: KernelFsError,
    },
    #[error("program `{program}` has no tracepoint in its section name; pass one to attach")]
    NoTarget { program: String },
}

/// Why a uprobe could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum UProbeError {
    #[error(
        "program `{program}`: uprobe target `{name}`: no such library or executable (process \
         maps, ld.so.cache, PATH)"
    )]
    BinaryNotFound { program: String, name: String },
    #[error("program `{program}`: uprobe: no symbol `{symbol}` in {}", path.display())]
    SymbolNotFound {
        program: String,
        symbol: String,
        path: PathBuf,
    },
    #[error("program `{program}`: uprobe: reading ELF {}: {reason}", path.display())]
    Elf {
        program: String,
        path: PathBuf,
        reason: String,
    },
    #[error("program `{program}` names no binary in its section; pass one to attach")]
    NoTarget { program: String },
    #[error("uprobe: the kernel has no uprobe PMU")]
    NoPmu(#[source] std::io::Error),
    #[error("program `{program}`: uprobe at {}+{offset:#x}", path.display())]
    Attach {
        program: String,
        path: PathBuf,
        offset: u64,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

/// Why a USDT probe could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum UsdtError {
    #[error(
        "program `{program}`: usdt target `{name}`: no such library or executable (process \
         maps, ld.so.cache, PATH)"
    )]
    BinaryNotFound { program: String, name: String },
    #[error("usdt: reading ELF {}: {reason}", path.display())]
    Elf { path: PathBuf, reason: String },
    #[error("usdt: reading the USDT notes of {}", path.display())]
    Notes {
        path: PathBuf,
        #[source]
        source: bpf_core::usdt::UsdtError,
    },
    #[error("usdt: no USDT probe {provider}:{name} in {}", path.display())]
    ProbeNotFound {
        provider: String,
        name: String,
        path: PathBuf,
    },
    #[error(
        "program `{program}`: the object has no `{SPECS_MAP}` map (build it with <bpf/usdt.bpf.h>)"
    )]
    NoSpecsMap { program: String },
    #[error("program `{program}`: the object's USDT spec layout")]
    Layout {
        program: String,
        #[source]
        source: SpecLayoutError,
    },
    #[error("usdt {provider}:{name} in {}", path.display())]
    Spec {
        provider: String,
        name: String,
        path: PathBuf,
        #[source]
        source: Box<SpecLayoutError>,
    },
    #[error("usdt: all {max} spec ids of `{SPECS_MAP}` are in use (raise BPF_USDT_MAX_SPEC_CNT)")]
    NoSpecIds { max: u32 },
    #[error("usdt: writing spec {spec_id} into `{SPECS_MAP}`")]
    SpecUpdate {
        spec_id: u32,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error(
        "program `{program}`: the object has no `{IP_TO_SPEC_ID_MAP}` map, which kernels \
         without bpf cookies (before 5.15) need (build it with <bpf/usdt.bpf.h>)"
    )]
    NoIpMap { program: String },
    #[error(
        "usdt: {} is position-independent, so its probe sites move with every process: \
         kernels without bpf cookies (before 5.15) need a pid to attach to",
        path.display()
    )]
    NeedsPid { path: PathBuf },
    #[error("usdt: reading the mappings of process {pid}")]
    ProcessMaps {
        pid: u32,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "usdt {provider}:{name}: {} is not mapped executable in process {pid} at file offset \
         {offset:#x}",
        path.display()
    )]
    NotMapped {
        provider: String,
        name: String,
        path: PathBuf,
        pid: u32,
        offset: u64,
    },
    #[error(
        "usdt {provider}:{name}: the site at {address:#x} is already attached through this \
         object's `{IP_TO_SPEC_ID_MAP}` (kernels without bpf cookies tell sites apart by address \
         only)"
    )]
    SiteInUse {
        provider: String,
        name: String,
        address: u64,
    },
    #[error("usdt: writing address {address:#x} into `{IP_TO_SPEC_ID_MAP}`")]
    IpUpdate {
        address: u64,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("program `{program}` names no USDT probe in its section; pass one to attach")]
    NoTarget { program: String },
    #[error("usdt: the kernel has no uprobe PMU")]
    NoPmu(#[source] std::io::Error),
    #[error("program `{program}`: usdt {provider}:{name} at {}+{offset:#x}", path.display())]
    Attach {
        program: String,
        provider: String,
        name: String,
        path: PathBuf,
        offset: u64,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

impl From<UProbeError> for UsdtError {
    fn from(error: UProbeError) -> UsdtError {
        match error {
            UProbeError::BinaryNotFound { program, name } => {
                UsdtError::BinaryNotFound { program, name }
            }
            UProbeError::Elf { path, reason, .. } => UsdtError::Elf { path, reason },
            other => UsdtError::Elf {
                path: PathBuf::new(),
                reason: crate::ErrorChain(&other).to_string(),
            },
        }
    }
}

/// Why an XDP program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum XdpError {
    #[error("network interface `{name}` not found")]
    InterfaceNotFound {
        name: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("attaching XDP program `{program}` to interface {ifindex} with a bpf_link")]
    LinkAttach {
        program: String,
        ifindex: u32,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("attaching XDP program `{program}` to interface {ifindex} via netlink")]
    NetlinkAttach {
        program: String,
        ifindex: u32,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("flags {flags:?} need the netlink interface, but a bpf_link was requested")]
    FlagsNeedNetlink { flags: XdpFlags },
}

/// Why a classifier could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum TcError {
    #[error("network interface `{name}` not found")]
    InterfaceNotFound {
        name: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("adding the clsact qdisc to interface {ifindex}")]
    Qdisc {
        ifindex: u32,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("attaching classifier `{program}` to interface {ifindex} with a TCX link")]
    TcxAttach {
        program: String,
        ifindex: u32,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("adding classifier `{program}` as a filter on interface {ifindex}")]
    FilterAttach {
        program: String,
        ifindex: u32,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("TCX links only attach at ingress or egress, not {attach_type:?}")]
    TcxNeedsIngressOrEgress { attach_type: TcAttachType },
}

/// Why a netkit program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum NetkitError {
    #[error("network interface `{name}` not found")]
    InterfaceNotFound {
        name: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("network interface `{name}` is not a netkit device")]
    NotNetkit { name: String },
    #[error(
        "network interface `{name}` is a netkit peer; programs of both sides attach through \
         the primary device"
    )]
    NotPrimary { name: String },
    #[error(
        "the netkit programs of interface `{name}` changed: revision is no longer \
         {expected_revision}"
    )]
    StaleRevision {
        name: String,
        expected_revision: u64,
    },
    #[error("attaching netkit program `{program}` as {attach_type:?} on `{name}`")]
    Attach {
        program: String,
        name: String,
        attach_type: NetkitAttachType,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error(
        "program `{program}` has no `netkit/primary` or `netkit/peer` section to take the \
         attach type from"
    )]
    NoDefaultAttachType { program: String },
    #[error("querying the netkit programs of `{name}`")]
    Query {
        name: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

/// Why a perf event could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PerfEventError {
    #[error("reading the online CPUs")]
    OnlineCpus(#[source] std::io::Error),
    #[error("program `{program}`: perf event (type {perf_type}, config {config:#x}) for {scope:?}")]
    Open {
        program: String,
        perf_type: u32,
        config: u64,
        scope: PerfEventScope,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

/// Why a netfilter program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum NetfilterError {
    #[error("attaching netfilter program `{program}` at {options:?}")]
    Attach {
        program: String,
        options: NetfilterAttachOptions,
        #[source]
        source: bpf_sys::SyscallError,
    },
}
