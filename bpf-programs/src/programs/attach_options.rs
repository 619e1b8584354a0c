//! What the attach calls of the XDP, tc, netkit, netfilter, perf event and cgroup types take,
//! below `type_errors.rs`, whose errors name them.

use bpf_sys::generated::{
    BPF_F_ALLOW_MULTI, BPF_F_ALLOW_OVERRIDE, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE,
    XDP_FLAGS_REPLACE, XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST, bpf_attach_type,
    nf_inet_hooks,
};
use bpf_sys::netlink::tc::TcAttachPoint;

bitflags::bitflags! {
    /// How an XDP program is attached (`XDP_FLAGS_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct XdpFlags: u32 {
        /// Generic XDP, after the skb is built (works on every interface).
        const SKB_MODE = XDP_FLAGS_SKB_MODE;
        /// Native XDP in the driver.
        const DRV_MODE = XDP_FLAGS_DRV_MODE;
        /// Offloaded to the NIC.
        const HW_MODE = XDP_FLAGS_HW_MODE;
        /// Replace the attached program (netlink only; without it an occupied interface is
        /// refused; [`Xdp::attach_to_link`](crate::programs::Xdp::attach_to_link) replaces exactly the expected program).
        const REPLACE = XDP_FLAGS_REPLACE;
        /// Fail if a program is already attached (netlink; the default now, kept for callers
        /// that set it; links always do).
        const UPDATE_IF_NOEXIST = XDP_FLAGS_UPDATE_IF_NOEXIST;
    }
}

/// Where on an interface a classifier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcAttachType {
    /// Received packets.
    Ingress,
    /// Sent packets.
    Egress,
    /// A filter under another qdisc handle (netlink only).
    Custom(u32),
}

impl TcAttachType {
    pub(crate) fn point(self) -> TcAttachPoint {
        match self {
            TcAttachType::Ingress => TcAttachPoint::Ingress,
            TcAttachType::Egress => TcAttachPoint::Egress,
            TcAttachType::Custom(parent) => TcAttachPoint::Custom(parent),
        }
    }

    pub(crate) fn tcx(self) -> Option<bpf_attach_type::Type> {
        match self {
            TcAttachType::Ingress => Some(bpf_attach_type::BPF_TCX_INGRESS),
            TcAttachType::Egress => Some(bpf_attach_type::BPF_TCX_EGRESS),
            TcAttachType::Custom(_) => None,
        }
    }
}

/// Which side of a netkit pair a program runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetkitAttachType {
    /// Packets the primary device sends (`BPF_NETKIT_PRIMARY`).
    Primary,
    /// Packets the peer device sends (`BPF_NETKIT_PEER`).
    Peer,
}

impl NetkitAttachType {
    /// The kernel's `bpf_attach_type`.
    pub fn attach_type(self) -> bpf_attach_type::Type {
        match self {
            NetkitAttachType::Primary => bpf_attach_type::BPF_NETKIT_PRIMARY,
            NetkitAttachType::Peer => bpf_attach_type::BPF_NETKIT_PEER,
        }
    }

    /// The side a `bpf_attach_type` names, if it is a netkit one.
    pub fn from_attach_type(attach_type: bpf_attach_type::Type) -> Option<NetkitAttachType> {
        match attach_type {
            bpf_attach_type::BPF_NETKIT_PRIMARY => Some(NetkitAttachType::Primary),
            bpf_attach_type::BPF_NETKIT_PEER => Some(NetkitAttachType::Peer),
            _ => None,
        }
    }
}

/// Which tasks and CPUs the event observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfEventScope {
    /// The calling thread, on any CPU.
    CallingProcessAnyCpu,
    /// The calling thread, on one CPU.
    CallingProcessOneCpu { cpu: u32 },
    /// One process (or thread), on any CPU.
    OneProcessAnyCpu { pid: u32 },
    /// One process (or thread), on one CPU.
    OneProcessOneCpu { pid: u32, cpu: u32 },
    /// Everything running on one CPU.
    AllProcessesOneCpu { cpu: u32 },
}

impl PerfEventScope {
    pub(crate) fn pid_cpu(self) -> (i32, i32) {
        match self {
            PerfEventScope::CallingProcessAnyCpu => (0, -1),
            PerfEventScope::CallingProcessOneCpu { cpu } => (0, cpu as i32),
            PerfEventScope::OneProcessAnyCpu { pid } => (pid as i32, -1),
            PerfEventScope::OneProcessOneCpu { pid, cpu } => (pid as i32, cpu as i32),
            PerfEventScope::AllProcessesOneCpu { cpu } => (-1, cpu as i32),
        }
    }
}

/// The protocol family of the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetfilterFamily {
    /// `NFPROTO_IPV4`.
    Ipv4,
    /// `NFPROTO_IPV6`.
    Ipv6,
}

impl NetfilterFamily {
    pub(crate) fn raw(self) -> u32 {
        match self {
            NetfilterFamily::Ipv4 => 2,
            NetfilterFamily::Ipv6 => 10,
        }
    }
}

/// Where in the IP path the hook sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetfilterHook {
    /// Before routing (every received packet).
    PreRouting,
    /// Packets for this host.
    LocalIn,
    /// Packets routed through.
    Forward,
    /// Packets this host sends.
    LocalOut,
    /// After routing (every sent packet).
    PostRouting,
}

impl NetfilterHook {
    pub(crate) fn raw(self) -> u32 {
        match self {
            NetfilterHook::PreRouting => nf_inet_hooks::NF_INET_PRE_ROUTING,
            NetfilterHook::LocalIn => nf_inet_hooks::NF_INET_LOCAL_IN,
            NetfilterHook::Forward => nf_inet_hooks::NF_INET_FORWARD,
            NetfilterHook::LocalOut => nf_inet_hooks::NF_INET_LOCAL_OUT,
            NetfilterHook::PostRouting => nf_inet_hooks::NF_INET_POST_ROUTING,
        }
    }
}

/// Where and how a netfilter program is hooked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetfilterAttachOptions {
    /// The protocol family.
    pub family: NetfilterFamily,
    /// The hook.
    pub hook: NetfilterHook,
    /// Order among the hook's functions (lower runs first; not `INT_MIN`/`INT_MAX`).
    pub priority: i32,
    /// Reassemble fragments before the program runs (`BPF_F_NETFILTER_IP_DEFRAG`).
    pub defrag: bool,
}

/// How a program shares its cgroup attach point with others, on this cgroup and below.
///
/// Only [`AllowMultiple`](Self::AllowMultiple) is possible with a `bpf_link` (the kernel's
/// cgroup links always let other programs run too), so it is the default and the only mode
/// [`AttachMethod::Auto`](crate::programs::AttachMethod::Auto) attaches with a link. [`Single`](Self::Single) and
/// [`AllowOverride`](Self::AllowOverride) attach with `BPF_PROG_ATTACH`, which enforces them but
/// outlives the process unless detached (dropping the link detaches it); asking for them
/// with [`AttachMethod::Link`](crate::programs::AttachMethod::Link) is refused with [`CgroupAttachError::ModeNeedsProgAttach`](crate::programs::CgroupAttachError::ModeNeedsProgAttach).
///
/// A second attach to the same cgroup and attach type: with `AllowMultiple`, the programs run
/// one after another (the same program twice only through separate links); with `Single` or
/// `AllowOverride`, where the kernel would silently replace the attached program, it is
/// refused with [`ProgramError::AttachPointBusy`](crate::programs::ProgramError::AttachPointBusy) naming the attached program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupAttachMode {
    /// The only program at this attach point; descendants may not attach their own.
    Single,
    /// Descendants may replace this program with theirs.
    AllowOverride,
    /// Several programs run in order, descendants' included.
    #[default]
    AllowMultiple,
}

impl CgroupAttachMode {
    pub(crate) fn flags(self) -> u32 {
        match self {
            CgroupAttachMode::Single => 0,
            CgroupAttachMode::AllowOverride => BPF_F_ALLOW_OVERRIDE,
            CgroupAttachMode::AllowMultiple => BPF_F_ALLOW_MULTI,
        }
    }
}
