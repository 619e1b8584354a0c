//! What the kernel weighs before letting this process use bpf(2), perf events and networking
//! hooks: the calling thread's effective capabilities, `kernel.unprivileged_bpf_disabled` and
//! the lockdown mode. One function reads each.

use std::fmt;
use std::io;

/// A capability the kernel checks for BPF work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `CAP_NET_ADMIN`: networking programs, maps and attachments.
    NetAdmin,
    /// `CAP_SYS_ADMIN`: stands in for `CAP_BPF`, `CAP_PERFMON` and `CAP_NET_ADMIN`.
    SysAdmin,
    /// `CAP_SYS_RESOURCE`: resource limits (arena maps; `RLIMIT_MEMLOCK` on old kernels).
    SysResource,
    /// `CAP_PERFMON`: tracing programs and perf events (Linux 5.8+).
    Perfmon,
    /// `CAP_BPF`: bpf(2) beyond what unprivileged users get (Linux 5.8+).
    Bpf,
}

impl Capability {
    /// The capability's number (`CAP_*` in `<linux/capability.h>`).
    pub fn number(self) -> u32 {
        match self {
            Capability::NetAdmin => 12,
            Capability::SysAdmin => 21,
            Capability::SysResource => 24,
            Capability::Perfmon => 38,
            Capability::Bpf => 39,
        }
    }

    /// The capability's C name, e.g. `CAP_BPF`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::NetAdmin => "CAP_NET_ADMIN",
            Capability::SysAdmin => "CAP_SYS_ADMIN",
            Capability::SysResource => "CAP_SYS_RESOURCE",
            Capability::Perfmon => "CAP_PERFMON",
            Capability::Bpf => "CAP_BPF",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of capabilities, as the kernel's bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapabilitySet(u64);

impl CapabilitySet {
    /// The set whose mask is `bits` (bit `n` is capability number `n`).
    pub fn from_bits(bits: u64) -> CapabilitySet {
        CapabilitySet(bits)
    }

    /// The mask.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Whether `capability` is in the set.
    pub fn contains(self, capability: Capability) -> bool {
        self.0 & (1 << capability.number()) != 0
    }

    /// The set without `capability`.
    pub fn without(self, capability: Capability) -> CapabilitySet {
        CapabilitySet(self.0 & !(1 << capability.number()))
    }
}

/// The calling thread's effective capabilities (`CapEff` of `/proc/thread-self/status`;
/// capabilities are per thread).
pub fn effective_capabilities() -> io::Result<CapabilitySet> {
    let status = std::fs::read_to_string("/proc/thread-self/status")?;
    parse_effective_capabilities(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "no CapEff line in /proc/thread-self/status",
        )
    })
}

fn parse_effective_capabilities(status: &str) -> Option<CapabilitySet> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok().map(CapabilitySet)
}

/// `kernel.unprivileged_bpf_disabled`: 0 lets unprivileged users create some maps and load
/// socket filters; 1 forbids it until reboot; 2 forbids it until an admin writes 0.
pub fn unprivileged_bpf_disabled() -> io::Result<u32> {
    let path = "/proc/sys/kernel/unprivileged_bpf_disabled";
    let text = std::fs::read_to_string(path)?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {text:?}")))
}

/// The kernel's lockdown mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lockdown {
    /// Not locked down.
    None,
    /// Integrity: nothing may modify the running kernel (e.g. `bpf_probe_write_user`).
    Integrity,
    /// Confidentiality: nothing may read kernel memory either (kprobes, `bpf_probe_read_kernel`,
    /// some perf events, tracefs).
    Confidentiality,
}

impl fmt::Display for Lockdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lockdown::None => "none",
            Lockdown::Integrity => "integrity",
            Lockdown::Confidentiality => "confidentiality",
        })
    }
}

/// The lockdown mode, from `/sys/kernel/security/lockdown` (an error when securityfs is not
/// mounted or the kernel has no lockdown LSM).
pub fn lockdown() -> io::Result<Lockdown> {
    let path = "/sys/kernel/security/lockdown";
    let text = std::fs::read_to_string(path)?;
    parse_lockdown(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {text:?}")))
}

/// The bracketed word of `none [integrity] confidentiality`.
fn parse_lockdown(text: &str) -> Option<Lockdown> {
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    match &text[start..end] {
        "none" => Some(Lockdown::None),
        "integrity" => Some(Lockdown::Integrity),
        "confidentiality" => Some(Lockdown::Confidentiality),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_eff_is_read_as_hex() {
        let status = "Name:\tx\nCapPrm:\t000001ffffffffff\nCapEff:\t000001fffeffffff\n";
        let caps = parse_effective_capabilities(status).unwrap();
        assert!(caps.contains(Capability::Bpf));
        assert!(caps.contains(Capability::SysAdmin));
        assert!(!caps.contains(Capability::SysResource));
        assert_eq!(parse_effective_capabilities("CapPrm:\t0\n"), None);
    }

    #[test]
    fn lockdown_mode_is_the_bracketed_one() {
        assert_eq!(
            parse_lockdown("[none] integrity confidentiality\n"),
            Some(Lockdown::None)
        );
        assert_eq!(
            parse_lockdown("none integrity [confidentiality]\n"),
            Some(Lockdown::Confidentiality)
        );
        assert_eq!(parse_lockdown("none integrity"), None);
    }

    #[test]
    fn this_thread_has_capabilities_that_can_be_read() {
        // Whatever they are, the line exists and parses on every Linux since 2.6.
        effective_capabilities().unwrap();
        assert!(unprivileged_bpf_disabled().unwrap() <= 2);
    }
}
