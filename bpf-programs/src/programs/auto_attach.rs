//! Attaching a program where its section says, as libbpf's auto-attach (a skeleton's
//! `attach()`) does: `tracepoint/sched/sched_switch`, `kprobe/do_unlinkat`, `fentry/...`, `usdt/...`, ...

use bpf_core::obj::ProgramSection as S;

use super::ProgramError;

/// Whether `section` names everything its type needs to attach.
fn names_target(section: &S) -> bool {
    match section {
        S::KProbe { function, .. } => function.is_some(),
        S::KSyscall { syscall, .. } => syscall.is_some(),
        S::KProbeMulti { pattern, .. } => pattern.is_some(),
        S::UProbe { target, .. } => target.is_some(),
        S::UProbeMulti { target, .. } => target.is_some(),
        S::Usdt { target, .. } => target.is_some(),
        S::TracePoint { target } => target.is_some(),
        S::RawTracePoint { name, .. } | S::BtfTracePoint { name } => name.is_some(),
        S::FEntry { function, .. } | S::FExit { function, .. } | S::FModRet { function, .. } => {
            function.is_some()
        }
        S::Lsm { hook, .. } => hook.is_some(),
        _ => false,
    }
}

/// Loading and attaching one typed program at the target its section names (libbpf's
/// auto-attach), as [`Bpf::attach_all`](crate::Bpf::attach_all) does for every program: what a
/// generated skeleton's `attach()` calls on each of its typed programs.
pub trait AttachFromSection {
    /// Loads the program if it is not yet loaded and attaches it at the target its section
    /// names; the link is the program's (detached when it is dropped). `Ok(false)` when the
    /// section names no target: such programs attach with their type's `attach(...)`, which
    /// takes the interface, cgroup, perf event or map they need.
    fn attach_from_section(&mut self) -> Result<bool, ProgramError>;

    /// Whether `attach_all` takes this program: false for libbpf's `SEC("?...")`, unless changed
    /// with [`set_autoload`](Self::set_autoload).
    fn autoload(&self) -> bool;

    /// Includes or leaves out this program from `attach_all` and a skeleton's `load()` and
    /// `attach()` (libbpf's `bpf_program__set_autoload`).
    fn set_autoload(&mut self, autoload: bool);
}

/// Implements [`AttachFromSection`] for program types, each with the call attaching it where
/// its section says; types listed without a call never name their target in the section.
macro_rules! attach_from_section {
    ($($ty:ident $(=> |$p:ident| $attach:expr)?;)*) => {
        $(
            impl AttachFromSection for super::$ty {
                fn attach_from_section(&mut self) -> Result<bool, ProgramError> {
                    attach_from_section!(@body self $(, |$p| $attach)?)
                }

                fn autoload(&self) -> bool {
                    self.data.autoload()
                }

                fn set_autoload(&mut self, autoload: bool) {
                    self.data.autoload = Some(autoload);
                }
            }
        )*
    };
    (@body $self:ident) => {
        Ok(false)
    };
    (@body $self:ident, |$p:ident| $attach:expr) => {{
        if !$self.data.section().is_some_and(names_target) {
            return Ok(false);
        }
        if $self.data.fd().is_err() {
            $self.load_as_kind()?;
        }
        let $p = $self;
        $attach.map(drop)?;
        Ok(true)
    }};
}

attach_from_section! {
    KProbe => |p| p.attach_default();
    KProbeMulti => |p| p.attach_default();
    UProbe => |p| p.attach_default(None);
    UProbeMulti => |p| p.attach_default(None);
    Usdt => |p| p.attach_default(None);
    TracePoint => |p| p.attach_default();
    RawTracePoint => |p| p.attach_default();
    BtfTracePoint => |p| p.attach();
    FEntry => |p| p.attach(0);
    FExit => |p| p.attach(0);
    FModRet => |p| p.attach(0);
    Lsm => |p| p.attach();
    PerfEvent;
    Extension;
    Iter;
    Syscall;
    StructOpsProgram;
    Xdp;
    SchedClassifier;
    CgroupSkb;
    CgroupSock;
    CgroupSockAddr;
    CgroupSockopt;
    CgroupSysctl;
    CgroupDevice;
    SockOps;
    SkMsg;
    SkSkb;
    SocketFilter;
    SkLookup;
    FlowDissector;
    SkReuseport;
    Netfilter;
    Netkit;
    LircMode2;
    UnsupportedProgram;
    UnknownProgram;
}
