//! Attaching a program where its section says, as libbpf's auto-attach (a skeleton's
//! `attach()`) does: `tracepoint/sched/sched_switch`, `kprobe/do_unlinkat`, `fentry/...`, `usdt/...`, ...

use bpf_core::obj::ProgramSection as S;

use super::{Program, ProgramError};

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

impl Program {
    /// Whether [`Bpf::load_all`](crate::Bpf::load_all) and
    /// [`Bpf::attach_all`](crate::Bpf::attach_all) take this program: false for libbpf's
    /// `SEC("?...")`, unless changed with [`set_autoload`](Self::set_autoload).
    pub fn autoload(&self) -> bool {
        self.data_autoload()
    }

    /// Includes or leaves out this program from `load_all` and `attach_all` (libbpf's
    /// `bpf_program__set_autoload`), e.g. the kprobe twin of an fentry program the kernel has;
    /// left out, it is not loaded unless asked for by name. Before load, the same setting is
    /// [`OpenProgramMut::set_autoload`](crate::OpenProgramMut::set_autoload).
    pub fn set_autoload(&mut self, autoload: bool) {
        self.set_data_autoload(autoload);
    }

    /// Loads the program if it is not yet loaded and attaches it at the target its section
    /// names; the link is the program's (detached when it is dropped). `Ok(false)` when the
    /// section names no target: such programs attach with their type's `attach(...)`, which
    /// takes the interface, cgroup, perf event or map they need.
    pub fn attach_from_section(&mut self) -> Result<bool, ProgramError> {
        if !self.section().is_some_and(names_target) {
            return Ok(false);
        }
        if self.fd().is_err() {
            self.load()?;
        }
        match self {
            Program::KProbe(p) => p.attach_default().map(drop),
            Program::KProbeMulti(p) => p.attach_default().map(drop),
            Program::UProbe(p) => p.attach_default(None).map(drop),
            Program::UProbeMulti(p) => p.attach_default(None).map(drop),
            Program::Usdt(p) => p.attach_default(None).map(drop),
            Program::TracePoint(p) => p.attach_default().map(drop),
            Program::RawTracePoint(p) => p.attach_default().map(drop),
            Program::BtfTracePoint(p) => p.attach().map(drop),
            Program::FEntry(p) => p.attach(0).map(drop),
            Program::FExit(p) => p.attach(0).map(drop),
            Program::FModRet(p) => p.attach(0).map(drop),
            Program::Lsm(p) => p.attach().map(drop),
            _ => return Ok(false),
        }?;
        Ok(true)
    }
}
