//! Program section names (libbpf's `SEC("...")` conventions) and the kernel types they imply.

use bpf_sys::generated::{bpf_attach_type as at, bpf_prog_type as pt};

/// A uprobe target as written in `uprobe/<binary>:<function>[+<offset>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UprobeTarget {
    /// The binary or library path (may be a bare library name, resolved by the loader).
    pub binary: String,
    /// The function name, or `None` when the target is an absolute offset.
    pub function: Option<String>,
    /// Offset from the function start, or the absolute file offset when `function` is `None`.
    pub offset: u64,
}

/// A USDT probe as written in `usdt/<binary>:<provider>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtTarget {
    /// The binary or library path (may be a bare library name, resolved by the loader).
    pub binary: String,
    /// The probe's provider (the first argument of `DTRACE_PROBE*`/`STAP_PROBE*`).
    pub provider: String,
    /// The probe's name.
    pub name: String,
}

/// A tracepoint as written in `tracepoint/<category>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracepoint {
    pub category: String,
    pub name: String,
}

/// What a program section name says about the program: its kind and attach target.
///
/// Unknown names are not an error here; the loader reports them when such a program is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSection {
    KProbe {
        function: Option<String>,
        offset: u64,
        retprobe: bool,
    },
    KProbeMulti {
        pattern: Option<String>,
        retprobe: bool,
        session: bool,
    },
    KSyscall {
        syscall: Option<String>,
        retprobe: bool,
    },
    UProbe {
        target: Option<UprobeTarget>,
        retprobe: bool,
        sleepable: bool,
    },
    /// `usdt`, `usdt/<binary>:<provider>:<name>`, `usdt.s/...`: a uprobe at a USDT probe
    /// site whose arguments the program reads with `bpf_usdt_arg()`.
    Usdt {
        target: Option<UsdtTarget>,
        sleepable: bool,
    },
    /// `uprobe.multi/<binary>:<pattern>`, target kept as written.
    UProbeMulti {
        target: Option<String>,
        retprobe: bool,
        sleepable: bool,
    },
    TracePoint {
        target: Option<Tracepoint>,
    },
    RawTracePoint {
        name: Option<String>,
        writable: bool,
    },
    BtfTracePoint {
        name: Option<String>,
    },
    FEntry {
        function: Option<String>,
        sleepable: bool,
    },
    FExit {
        function: Option<String>,
        sleepable: bool,
    },
    FModRet {
        function: Option<String>,
        sleepable: bool,
    },
    Lsm {
        hook: Option<String>,
        sleepable: bool,
    },
    LsmCgroup {
        hook: Option<String>,
    },
    Iter {
        target: Option<String>,
        sleepable: bool,
    },
    /// `freplace/<function>`: replaces a global function of another program.
    Extension {
        function: Option<String>,
    },
    PerfEvent,
    /// `xdp`, `xdp.frags`, `xdp/devmap`, `xdp/cpumap` (and their `.frags` forms).
    Xdp {
        frags: bool,
        attach_type: at::Type,
    },
    /// `tc`, `classifier`.
    SchedClassifier,
    SchedAction,
    /// `tcx/ingress|egress` (and libbpf's `tc/ingress|egress`).
    Tcx {
        attach_type: at::Type,
    },
    /// `netkit/primary|peer`.
    Netkit {
        attach_type: at::Type,
    },
    SocketFilter,
    Lwt {
        prog_type: pt::Type,
    },
    /// `cgroup_skb/ingress|egress`; `cgroup/skb` leaves the attach type open.
    CgroupSkb {
        attach_type: Option<at::Type>,
    },
    CgroupSock {
        attach_type: at::Type,
    },
    CgroupSockAddr {
        attach_type: at::Type,
    },
    CgroupSockopt {
        attach_type: at::Type,
    },
    CgroupSysctl,
    CgroupDevice,
    SockOps,
    SkMsg,
    /// `sk_skb`, `sk_skb/stream_parser|stream_verdict|verdict`.
    SkSkb {
        attach_type: Option<at::Type>,
    },
    SkLookup,
    FlowDissector,
    LircMode2,
    SkReuseport {
        migrate: bool,
    },
    Netfilter,
    Syscall,
    /// `struct_ops/<member>`, `struct_ops.s/<member>`.
    StructOps {
        member: Option<String>,
        sleepable: bool,
    },
    Unknown(String),
}

fn target(rest: Option<&str>) -> Option<String> {
    rest.filter(|s| !s.is_empty()).map(str::to_owned)
}

fn parse_uprobe_target(rest: Option<&str>) -> Option<UprobeTarget> {
    let rest = rest.filter(|s| !s.is_empty())?;
    let Some((binary, location)) = rest.rsplit_once(':') else {
        return Some(UprobeTarget {
            binary: rest.to_owned(),
            function: None,
            offset: 0,
        });
    };
    let (symbol, offset) = match location.split_once('+') {
        Some((symbol, offset)) => (symbol, parse_number(offset).unwrap_or(0)),
        None => (location, 0),
    };
    if let Some(address) = parse_number(symbol) {
        return Some(UprobeTarget {
            binary: binary.to_owned(),
            function: None,
            offset: address,
        });
    }
    let function = (!symbol.is_empty()).then(|| symbol.to_owned());
    Some(UprobeTarget {
        binary: binary.to_owned(),
        function,
        offset,
    })
}

/// `<binary>:<provider>:<name>`, each part non-empty (as libbpf, the path cannot hold a `:`).
fn parse_usdt_target(rest: Option<&str>) -> Option<UsdtTarget> {
    let mut parts = rest?.split(':');
    let (binary, provider, name) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || [binary, provider, name].iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(UsdtTarget {
        binary: binary.to_owned(),
        provider: provider.to_owned(),
        name: name.to_owned(),
    })
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if text.starts_with(|c: char| c.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

fn parse_kprobe(rest: Option<&str>, retprobe: bool) -> ProgramSection {
    let (function, offset) = match rest.filter(|s| !s.is_empty()) {
        None => (None, 0),
        Some(spec) => match spec.split_once('+') {
            Some((function, offset)) => {
                (Some(function.to_owned()), parse_number(offset).unwrap_or(0))
            }
            None => (Some(spec.to_owned()), 0),
        },
    };
    ProgramSection::KProbe {
        function,
        offset,
        retprobe,
    }
}

fn parse_tracepoint(rest: Option<&str>) -> ProgramSection {
    let target = rest
        .and_then(|r| r.split_once('/'))
        .map(|(category, name)| Tracepoint {
            category: category.to_owned(),
            name: name.to_owned(),
        });
    ProgramSection::TracePoint { target }
}

fn cgroup_section(rest: &str) -> Option<ProgramSection> {
    use ProgramSection as S;
    let section = match rest {
        "skb" => S::CgroupSkb { attach_type: None },
        "sock" | "sock_create" => S::CgroupSock {
            attach_type: at::BPF_CGROUP_INET_SOCK_CREATE,
        },
        "sock_release" => S::CgroupSock {
            attach_type: at::BPF_CGROUP_INET_SOCK_RELEASE,
        },
        "post_bind4" => S::CgroupSock {
            attach_type: at::BPF_CGROUP_INET4_POST_BIND,
        },
        "post_bind6" => S::CgroupSock {
            attach_type: at::BPF_CGROUP_INET6_POST_BIND,
        },
        "dev" => S::CgroupDevice,
        "sysctl" => S::CgroupSysctl,
        "getsockopt" => S::CgroupSockopt {
            attach_type: at::BPF_CGROUP_GETSOCKOPT,
        },
        "setsockopt" => S::CgroupSockopt {
            attach_type: at::BPF_CGROUP_SETSOCKOPT,
        },
        _ => S::CgroupSockAddr {
            attach_type: sock_addr_attach_type(rest)?,
        },
    };
    Some(section)
}

fn sock_addr_attach_type(name: &str) -> Option<at::Type> {
    Some(match name {
        "bind4" => at::BPF_CGROUP_INET4_BIND,
        "bind6" => at::BPF_CGROUP_INET6_BIND,
        "connect4" => at::BPF_CGROUP_INET4_CONNECT,
        "connect6" => at::BPF_CGROUP_INET6_CONNECT,
        "connect_unix" => at::BPF_CGROUP_UNIX_CONNECT,
        "sendmsg4" => at::BPF_CGROUP_UDP4_SENDMSG,
        "sendmsg6" => at::BPF_CGROUP_UDP6_SENDMSG,
        "sendmsg_unix" => at::BPF_CGROUP_UNIX_SENDMSG,
        "recvmsg4" => at::BPF_CGROUP_UDP4_RECVMSG,
        "recvmsg6" => at::BPF_CGROUP_UDP6_RECVMSG,
        "recvmsg_unix" => at::BPF_CGROUP_UNIX_RECVMSG,
        "getpeername4" => at::BPF_CGROUP_INET4_GETPEERNAME,
        "getpeername6" => at::BPF_CGROUP_INET6_GETPEERNAME,
        "getpeername_unix" => at::BPF_CGROUP_UNIX_GETPEERNAME,
        "getsockname4" => at::BPF_CGROUP_INET4_GETSOCKNAME,
        "getsockname6" => at::BPF_CGROUP_INET6_GETSOCKNAME,
        "getsockname_unix" => at::BPF_CGROUP_UNIX_GETSOCKNAME,
        _ => return None,
    })
}

/// A section name split at its first `/`: the kind (`kprobe`, `uprobe.s`) and what follows.
#[derive(Clone, Copy)]
struct SectionName<'a> {
    kind: &'a str,
    rest: Option<&'a str>,
}

impl SectionName<'_> {
    /// The non-empty rest of the name: a function, hook, pattern or tracepoint name.
    fn target(self) -> Option<String> {
        target(self.rest)
    }

    /// `.s` kinds load sleepable programs.
    fn sleepable(self) -> bool {
        self.kind.ends_with(".s")
    }

    /// `uretprobe*` kinds.
    fn uretprobe(self) -> bool {
        self.kind.starts_with("uret")
    }

    /// The attach type the rest of the name picks from `choices`.
    fn attach_type(self, choices: &[(&str, at::Type)]) -> Option<at::Type> {
        let rest = self.rest?;
        choices.iter().find(|(name, _)| *name == rest).map(|c| c.1)
    }
}

/// How the rest of a section name is read for one kind; `None` when it is no valid section.
type SectionParser = fn(SectionName<'_>) -> Option<ProgramSection>;

/// Every section kind libbpf knows, by name, and how each reads the rest of the section name.
const SECTION_KINDS: &[(&str, SectionParser)] = {
    use ProgramSection as S;
    &[
        ("action", |_| Some(S::SchedAction)),
        ("cgroup", |n| n.rest.and_then(cgroup_section)),
        ("cgroup_skb", |n| {
            let attach_type = n.attach_type(&[
                ("ingress", at::BPF_CGROUP_INET_INGRESS),
                ("egress", at::BPF_CGROUP_INET_EGRESS),
            ])?;
            Some(S::CgroupSkb {
                attach_type: Some(attach_type),
            })
        }),
        ("classifier", |_| Some(S::SchedClassifier)),
        ("fentry", |n| Some(fentry(n))),
        ("fentry.s", |n| Some(fentry(n))),
        ("fexit", |n| Some(fexit(n))),
        ("fexit.s", |n| Some(fexit(n))),
        ("flow_dissector", |_| Some(S::FlowDissector)),
        ("fmod_ret", |n| Some(fmod_ret(n))),
        ("fmod_ret.s", |n| Some(fmod_ret(n))),
        ("freplace", |n| {
            Some(S::Extension {
                function: n.target(),
            })
        }),
        ("iter", |n| Some(iter(n))),
        ("iter.s", |n| Some(iter(n))),
        ("kprobe", |n| Some(parse_kprobe(n.rest, false))),
        ("kprobe.multi", |n| Some(kprobe_multi(n, false, false))),
        ("kprobe.session", |n| Some(kprobe_multi(n, false, true))),
        ("kretprobe", |n| Some(parse_kprobe(n.rest, true))),
        ("kretprobe.multi", |n| Some(kprobe_multi(n, true, false))),
        ("kretsyscall", |n| Some(ksyscall(n, true))),
        ("ksyscall", |n| Some(ksyscall(n, false))),
        ("lirc_mode2", |_| Some(S::LircMode2)),
        ("lsm", |n| Some(lsm(n))),
        ("lsm.s", |n| Some(lsm(n))),
        ("lsm_cgroup", |n| Some(S::LsmCgroup { hook: n.target() })),
        ("lwt_in", |_| Some(lwt(pt::BPF_PROG_TYPE_LWT_IN))),
        ("lwt_out", |_| Some(lwt(pt::BPF_PROG_TYPE_LWT_OUT))),
        ("lwt_seg6local", |_| {
            Some(lwt(pt::BPF_PROG_TYPE_LWT_SEG6LOCAL))
        }),
        ("lwt_xmit", |_| Some(lwt(pt::BPF_PROG_TYPE_LWT_XMIT))),
        ("netfilter", |_| Some(S::Netfilter)),
        ("netkit", |n| {
            let attach_type = n.attach_type(&[
                ("primary", at::BPF_NETKIT_PRIMARY),
                ("peer", at::BPF_NETKIT_PEER),
            ])?;
            Some(S::Netkit { attach_type })
        }),
        ("perf_event", |_| Some(S::PerfEvent)),
        ("raw_tp", |n| Some(raw_tracepoint(n, false))),
        ("raw_tp.w", |n| Some(raw_tracepoint(n, true))),
        ("raw_tracepoint", |n| Some(raw_tracepoint(n, false))),
        ("raw_tracepoint.w", |n| Some(raw_tracepoint(n, true))),
        ("sk_lookup", |_| Some(S::SkLookup)),
        ("sk_msg", |_| Some(S::SkMsg)),
        ("sk_reuseport", |n| match n.rest {
            None => Some(S::SkReuseport { migrate: false }),
            Some("migrate") => Some(S::SkReuseport { migrate: true }),
            Some(_) => None,
        }),
        ("sk_skb", sk_skb),
        ("socket", |_| Some(S::SocketFilter)),
        ("sockops", |_| Some(S::SockOps)),
        ("struct_ops", |n| Some(struct_ops(n))),
        ("struct_ops.s", |n| Some(struct_ops(n))),
        ("syscall", |_| Some(S::Syscall)),
        ("tc", |n| Some(tcx(n).unwrap_or(S::SchedClassifier))),
        ("tcx", tcx),
        ("tp", |n| Some(parse_tracepoint(n.rest))),
        ("tp_btf", |n| Some(S::BtfTracePoint { name: n.target() })),
        ("tracepoint", |n| Some(parse_tracepoint(n.rest))),
        ("uprobe", |n| Some(uprobe(n))),
        ("uprobe.multi", |n| Some(uprobe_multi(n))),
        ("uprobe.multi.s", |n| Some(uprobe_multi(n))),
        ("uprobe.s", |n| Some(uprobe(n))),
        ("uretprobe", |n| Some(uprobe(n))),
        ("uretprobe.multi", |n| Some(uprobe_multi(n))),
        ("uretprobe.multi.s", |n| Some(uprobe_multi(n))),
        ("uretprobe.s", |n| Some(uprobe(n))),
        ("usdt", usdt),
        ("usdt.s", usdt),
        ("xdp", |n| Some(xdp(n, false))),
        ("xdp.frags", |n| Some(xdp(n, true))),
    ]
};

fn kprobe_multi(name: SectionName<'_>, retprobe: bool, session: bool) -> ProgramSection {
    ProgramSection::KProbeMulti {
        pattern: name.target(),
        retprobe,
        session,
    }
}

fn ksyscall(name: SectionName<'_>, retprobe: bool) -> ProgramSection {
    ProgramSection::KSyscall {
        syscall: name.target(),
        retprobe,
    }
}

fn uprobe(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::UProbe {
        target: parse_uprobe_target(name.rest),
        retprobe: name.uretprobe(),
        sleepable: name.sleepable(),
    }
}

fn uprobe_multi(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::UProbeMulti {
        target: name.target(),
        retprobe: name.uretprobe(),
        sleepable: name.sleepable(),
    }
}

fn usdt(name: SectionName<'_>) -> Option<ProgramSection> {
    let target = parse_usdt_target(name.rest);
    // A target that is not `<binary>:<provider>:<name>` is no usdt section.
    (name.rest.is_none_or(str::is_empty) || target.is_some()).then_some(ProgramSection::Usdt {
        target,
        sleepable: name.sleepable(),
    })
}

fn raw_tracepoint(name: SectionName<'_>, writable: bool) -> ProgramSection {
    ProgramSection::RawTracePoint {
        name: name.target(),
        writable,
    }
}

fn fentry(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::FEntry {
        function: name.target(),
        sleepable: name.sleepable(),
    }
}

fn fexit(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::FExit {
        function: name.target(),
        sleepable: name.sleepable(),
    }
}

fn fmod_ret(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::FModRet {
        function: name.target(),
        sleepable: name.sleepable(),
    }
}

fn lsm(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::Lsm {
        hook: name.target(),
        sleepable: name.sleepable(),
    }
}

fn iter(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::Iter {
        target: name.target(),
        sleepable: name.sleepable(),
    }
}

fn struct_ops(name: SectionName<'_>) -> ProgramSection {
    ProgramSection::StructOps {
        member: name.target(),
        sleepable: name.sleepable(),
    }
}

fn xdp(name: SectionName<'_>, frags: bool) -> ProgramSection {
    let attach_type = name
        .attach_type(&[
            ("devmap", at::BPF_XDP_DEVMAP),
            ("cpumap", at::BPF_XDP_CPUMAP),
        ])
        .unwrap_or(at::BPF_XDP);
    ProgramSection::Xdp { frags, attach_type }
}

/// `tcx/ingress`, `tcx/egress` (also spelt `tc/...`).
fn tcx(name: SectionName<'_>) -> Option<ProgramSection> {
    let attach_type = name.attach_type(&[
        ("ingress", at::BPF_TCX_INGRESS),
        ("egress", at::BPF_TCX_EGRESS),
    ])?;
    Some(ProgramSection::Tcx { attach_type })
}

fn lwt(prog_type: pt::Type) -> ProgramSection {
    ProgramSection::Lwt { prog_type }
}

fn sk_skb(name: SectionName<'_>) -> Option<ProgramSection> {
    if name.rest.is_none() {
        return Some(ProgramSection::SkSkb { attach_type: None });
    }
    let attach_type = name.attach_type(&[
        ("stream_parser", at::BPF_SK_SKB_STREAM_PARSER),
        ("stream_verdict", at::BPF_SK_SKB_STREAM_VERDICT),
        ("verdict", at::BPF_SK_SKB_VERDICT),
    ])?;
    Some(ProgramSection::SkSkb {
        attach_type: Some(attach_type),
    })
}

impl ProgramSection {
    /// Parses a section name; never fails (unrecognised names become [`ProgramSection::Unknown`]).
    pub fn parse(name: &str) -> ProgramSection {
        let (kind, rest) = match name.split_once('/') {
            Some((kind, rest)) => (kind, Some(rest)),
            None => (name, None),
        };
        SECTION_KINDS
            .iter()
            .find(|(known, _)| *known == kind)
            .and_then(|(_, parse)| parse(SectionName { kind, rest }))
            .unwrap_or_else(|| ProgramSection::Unknown(name.to_owned()))
    }

    /// The kernel program type, `None` for unknown sections.
    pub fn prog_type(&self) -> Option<pt::Type> {
        use ProgramSection as S;
        Some(match self {
            S::KProbe { .. } | S::KProbeMulti { .. } | S::KSyscall { .. } => {
                pt::BPF_PROG_TYPE_KPROBE
            }
            S::UProbe { .. } | S::UProbeMulti { .. } | S::Usdt { .. } => pt::BPF_PROG_TYPE_KPROBE,
            S::TracePoint { .. } => pt::BPF_PROG_TYPE_TRACEPOINT,
            S::RawTracePoint {
                writable: false, ..
            } => pt::BPF_PROG_TYPE_RAW_TRACEPOINT,
            S::RawTracePoint { writable: true, .. } => pt::BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
            S::BtfTracePoint { .. }
            | S::FEntry { .. }
            | S::FExit { .. }
            | S::FModRet { .. }
            | S::Iter { .. } => pt::BPF_PROG_TYPE_TRACING,
            S::Lsm { .. } | S::LsmCgroup { .. } => pt::BPF_PROG_TYPE_LSM,
            S::Extension { .. } => pt::BPF_PROG_TYPE_EXT,
            S::PerfEvent => pt::BPF_PROG_TYPE_PERF_EVENT,
            S::Xdp { .. } => pt::BPF_PROG_TYPE_XDP,
            S::SchedClassifier | S::Tcx { .. } | S::Netkit { .. } => pt::BPF_PROG_TYPE_SCHED_CLS,
            S::SchedAction => pt::BPF_PROG_TYPE_SCHED_ACT,
            S::SocketFilter => pt::BPF_PROG_TYPE_SOCKET_FILTER,
            S::Lwt { prog_type } => *prog_type,
            S::CgroupSkb { .. } => pt::BPF_PROG_TYPE_CGROUP_SKB,
            S::CgroupSock { .. } => pt::BPF_PROG_TYPE_CGROUP_SOCK,
            S::CgroupSockAddr { .. } => pt::BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
            S::CgroupSockopt { .. } => pt::BPF_PROG_TYPE_CGROUP_SOCKOPT,
            S::CgroupSysctl => pt::BPF_PROG_TYPE_CGROUP_SYSCTL,
            S::CgroupDevice => pt::BPF_PROG_TYPE_CGROUP_DEVICE,
            S::SockOps => pt::BPF_PROG_TYPE_SOCK_OPS,
            S::SkMsg => pt::BPF_PROG_TYPE_SK_MSG,
            S::SkSkb { .. } => pt::BPF_PROG_TYPE_SK_SKB,
            S::SkLookup => pt::BPF_PROG_TYPE_SK_LOOKUP,
            S::FlowDissector => pt::BPF_PROG_TYPE_FLOW_DISSECTOR,
            S::LircMode2 => pt::BPF_PROG_TYPE_LIRC_MODE2,
            S::SkReuseport { .. } => pt::BPF_PROG_TYPE_SK_REUSEPORT,
            S::Netfilter => pt::BPF_PROG_TYPE_NETFILTER,
            S::Syscall => pt::BPF_PROG_TYPE_SYSCALL,
            S::StructOps { .. } => pt::BPF_PROG_TYPE_STRUCT_OPS,
            S::Unknown(_) => return None,
        })
    }

    /// The `expected_attach_type` to load with; `None` means leave it 0 (unset).
    pub fn expected_attach_type(&self) -> Option<at::Type> {
        use ProgramSection as S;
        Some(match self {
            S::KProbeMulti { session: false, .. } => at::BPF_TRACE_KPROBE_MULTI,
            S::KProbeMulti { session: true, .. } => at::BPF_TRACE_KPROBE_SESSION,
            S::UProbeMulti { .. } => at::BPF_TRACE_UPROBE_MULTI,
            S::BtfTracePoint { .. } => at::BPF_TRACE_RAW_TP,
            S::FEntry { .. } => at::BPF_TRACE_FENTRY,
            S::FExit { .. } => at::BPF_TRACE_FEXIT,
            S::FModRet { .. } => at::BPF_MODIFY_RETURN,
            S::Lsm { .. } => at::BPF_LSM_MAC,
            S::LsmCgroup { .. } => at::BPF_LSM_CGROUP,
            S::Iter { .. } => at::BPF_TRACE_ITER,
            S::Xdp { attach_type, .. }
            | S::Tcx { attach_type }
            | S::Netkit { attach_type }
            | S::CgroupSock { attach_type }
            | S::CgroupSockAddr { attach_type }
            | S::CgroupSockopt { attach_type } => *attach_type,
            S::CgroupSkb { attach_type } | S::SkSkb { attach_type } => return *attach_type,
            S::CgroupSysctl => at::BPF_CGROUP_SYSCTL,
            S::CgroupDevice => at::BPF_CGROUP_DEVICE,
            S::SockOps => at::BPF_CGROUP_SOCK_OPS,
            S::SkMsg => at::BPF_SK_MSG_VERDICT,
            S::SkLookup => at::BPF_SK_LOOKUP,
            S::FlowDissector => at::BPF_FLOW_DISSECTOR,
            S::LircMode2 => at::BPF_LIRC_MODE2,
            S::SkReuseport { migrate: false } => at::BPF_SK_REUSEPORT_SELECT,
            S::SkReuseport { migrate: true } => at::BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
            S::Netfilter => at::BPF_NETFILTER,
            _ => return None,
        })
    }

    /// Whether the program must be loaded with `BPF_F_SLEEPABLE`.
    pub fn sleepable(&self) -> bool {
        use ProgramSection as S;
        match self {
            S::UProbe { sleepable, .. }
            | S::UProbeMulti { sleepable, .. }
            | S::Usdt { sleepable, .. }
            | S::FEntry { sleepable, .. }
            | S::FExit { sleepable, .. }
            | S::FModRet { sleepable, .. }
            | S::Lsm { sleepable, .. }
            | S::Iter { sleepable, .. }
            | S::StructOps { sleepable, .. } => *sleepable,
            S::Syscall => true,
            _ => false,
        }
    }

    /// Whether the program must be loaded with `BPF_F_XDP_HAS_FRAGS`.
    pub fn xdp_frags(&self) -> bool {
        matches!(self, ProgramSection::Xdp { frags: true, .. })
    }
}
