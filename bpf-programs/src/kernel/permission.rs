//! Why the kernel said EPERM or EACCES: the likely cause of a refused map creation, program
//! load, attachment or pin, decided from the facts of [`privileges`](super::privileges) and
//! [`fs`](super::fs) by [`decide`], which reads nothing itself.

use std::fmt;
use std::path::PathBuf;

use bpf_sys::generated::{bpf_map_type, bpf_prog_type};

use super::privileges::{Capability, CapabilitySet, Lockdown};

/// What the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// `BPF_MAP_CREATE` of a map of this `BPF_MAP_TYPE_*`.
    CreateMap {
        /// The map type.
        map_type: u32,
    },
    /// `BPF_PROG_LOAD` of a program of this `BPF_PROG_TYPE_*`.
    LoadProgram {
        /// The program type.
        prog_type: u32,
    },
    /// Attaching a program.
    Attach(AttachKind),
    /// `BPF_OBJ_PIN` at `path`.
    Pin {
        /// Where the pin was to be made.
        path: PathBuf,
    },
}

/// How an attachment reaches the kernel, which decides what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachKind {
    /// `perf_event_open(2)`: tracepoints, kprobes, uprobes, perf events.
    PerfEvent,
    /// A networking hook: XDP, tc, netkit, cgroups, network namespaces, netfilter, sockets.
    Network,
    /// A tracing link or raw tracepoint (`BPF_LINK_CREATE`, `BPF_RAW_TRACEPOINT_OPEN`).
    Tracing,
    /// Another bpf(2) attachment.
    Bpf,
}

/// One likely reason for a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The calling thread's effective capabilities lack `capability` (and, when
    /// `or_sys_admin`, also `CAP_SYS_ADMIN`, which would do instead).
    MissingCapability {
        /// The capability the operation needs.
        capability: Capability,
        /// Whether `CAP_SYS_ADMIN` would do instead.
        or_sys_admin: bool,
    },
    /// `kernel.unprivileged_bpf_disabled` is set (1 or 2) and the process is not
    /// `CAP_BPF`/`CAP_SYS_ADMIN`-capable.
    UnprivilegedBpfDisabled(u32),
    /// The kernel is locked down.
    Lockdown(Lockdown),
    /// The pin's directory is not on a BPF filesystem.
    NotOnBpffs {
        /// The directory.
        directory: PathBuf,
    },
    /// Capabilities, sysctl and lockdown allow the operation: something else refused it.
    NothingMissing,
}

/// The likely causes of an EPERM or EACCES, for an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionHint {
    /// What was refused.
    pub operation: Operation,
    /// Why, most likely (never empty).
    pub causes: Vec<Cause>,
}

/// The facts a hint is decided from; `None` where a fact could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The calling thread's effective capabilities.
    pub capabilities: Option<CapabilitySet>,
    /// `kernel.unprivileged_bpf_disabled`.
    pub unprivileged_bpf_disabled: Option<u32>,
    /// The lockdown mode.
    pub lockdown: Option<Lockdown>,
    /// For a pin: whether its directory is on a BPF filesystem.
    pub pin_directory_on_bpffs: Option<bool>,
}

impl Facts {
    /// Reads the facts `operation` depends on.
    pub fn read(operation: &Operation) -> Facts {
        let pin_directory_on_bpffs = match operation {
            Operation::Pin { path } => path.parent().map(super::fs::is_on_bpffs),
            _ => None,
        };
        Facts {
            capabilities: super::privileges::effective_capabilities().ok(),
            unprivileged_bpf_disabled: super::privileges::unprivileged_bpf_disabled().ok(),
            lockdown: super::privileges::lockdown().ok(),
            pin_directory_on_bpffs,
        }
    }
}

/// Map types any user may create while `kernel.unprivileged_bpf_disabled` is 0.
fn unprivileged_map(map_type: u32) -> bool {
    use bpf_map_type::*;
    matches!(
        map_type,
        BPF_MAP_TYPE_ARRAY
            | BPF_MAP_TYPE_PERCPU_ARRAY
            | BPF_MAP_TYPE_PROG_ARRAY
            | BPF_MAP_TYPE_PERF_EVENT_ARRAY
            | BPF_MAP_TYPE_CGROUP_ARRAY
            | BPF_MAP_TYPE_ARRAY_OF_MAPS
            | BPF_MAP_TYPE_HASH
            | BPF_MAP_TYPE_PERCPU_HASH
            | BPF_MAP_TYPE_HASH_OF_MAPS
            | BPF_MAP_TYPE_RINGBUF
            | BPF_MAP_TYPE_USER_RINGBUF
            | BPF_MAP_TYPE_CGROUP_STORAGE
            | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
    )
}

fn net_admin_map(map_type: u32) -> bool {
    use bpf_map_type::*;
    matches!(
        map_type,
        BPF_MAP_TYPE_SOCKMAP
            | BPF_MAP_TYPE_SOCKHASH
            | BPF_MAP_TYPE_DEVMAP
            | BPF_MAP_TYPE_DEVMAP_HASH
            | BPF_MAP_TYPE_XSKMAP
    )
}

/// What a program type needs beyond `CAP_BPF`, as the kernel groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgramClass {
    /// `CAP_PERFMON`: kprobes, tracepoints, perf events, trampolines, LSM, struct_ops.
    Tracing,
    /// `CAP_NET_ADMIN`: packet, socket and cgroup programs.
    Networking,
    /// Nothing more (socket filters, cgroup_skb, syscall, ...).
    Other,
}

/// The class of `prog_type`.
pub(crate) fn program_class(prog_type: u32) -> ProgramClass {
    if tracing_program(prog_type) {
        ProgramClass::Tracing
    } else if networking_program(prog_type) {
        ProgramClass::Networking
    } else {
        ProgramClass::Other
    }
}

fn tracing_program(prog_type: u32) -> bool {
    use bpf_prog_type::*;
    matches!(
        prog_type,
        BPF_PROG_TYPE_KPROBE
            | BPF_PROG_TYPE_TRACEPOINT
            | BPF_PROG_TYPE_PERF_EVENT
            | BPF_PROG_TYPE_RAW_TRACEPOINT
            | BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE
            | BPF_PROG_TYPE_TRACING
            | BPF_PROG_TYPE_LSM
            | BPF_PROG_TYPE_STRUCT_OPS
            | BPF_PROG_TYPE_EXT
    )
}

fn networking_program(prog_type: u32) -> bool {
    use bpf_prog_type::*;
    matches!(
        prog_type,
        BPF_PROG_TYPE_SCHED_CLS
            | BPF_PROG_TYPE_SCHED_ACT
            | BPF_PROG_TYPE_XDP
            | BPF_PROG_TYPE_LWT_IN
            | BPF_PROG_TYPE_LWT_OUT
            | BPF_PROG_TYPE_LWT_XMIT
            | BPF_PROG_TYPE_LWT_SEG6LOCAL
            | BPF_PROG_TYPE_SK_SKB
            | BPF_PROG_TYPE_SK_MSG
            | BPF_PROG_TYPE_FLOW_DISSECTOR
            | BPF_PROG_TYPE_CGROUP_DEVICE
            | BPF_PROG_TYPE_CGROUP_SOCK
            | BPF_PROG_TYPE_CGROUP_SOCK_ADDR
            | BPF_PROG_TYPE_CGROUP_SOCKOPT
            | BPF_PROG_TYPE_CGROUP_SYSCTL
            | BPF_PROG_TYPE_SOCK_OPS
            | BPF_PROG_TYPE_SK_LOOKUP
            | BPF_PROG_TYPE_SK_REUSEPORT
            | BPF_PROG_TYPE_NETFILTER
    )
}

/// The capabilities `operation` needs: each with whether `CAP_SYS_ADMIN` would do instead.
fn needs(operation: &Operation, unprivileged_bpf_disabled: u32) -> Vec<(Capability, bool)> {
    let mut needs = Vec::new();
    match *operation {
        Operation::CreateMap { map_type } => {
            if unprivileged_bpf_disabled != 0 || !unprivileged_map(map_type) {
                needs.push((Capability::Bpf, true));
            }
            if net_admin_map(map_type) {
                needs.push((Capability::NetAdmin, true));
            }
            // Seen refused without it (root lacking CAP_SYS_RESOURCE) where nothing else was.
            if map_type == bpf_map_type::BPF_MAP_TYPE_ARENA {
                needs.push((Capability::SysResource, false));
            }
        }
        Operation::LoadProgram { prog_type } => {
            let unprivileged = matches!(
                prog_type,
                bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER
                    | bpf_prog_type::BPF_PROG_TYPE_CGROUP_SKB
            );
            if unprivileged_bpf_disabled != 0 || !unprivileged {
                needs.push((Capability::Bpf, true));
            }
            if tracing_program(prog_type) {
                needs.push((Capability::Perfmon, true));
            }
            if networking_program(prog_type) {
                needs.push((Capability::NetAdmin, true));
            }
        }
        Operation::Attach(AttachKind::PerfEvent) => needs.push((Capability::Perfmon, true)),
        Operation::Attach(AttachKind::Network) => needs.push((Capability::NetAdmin, true)),
        Operation::Attach(AttachKind::Tracing) => {
            needs.push((Capability::Bpf, true));
            needs.push((Capability::Perfmon, true));
        }
        Operation::Attach(AttachKind::Bpf) => needs.push((Capability::Bpf, true)),
        Operation::Pin { .. } => {}
    }
    needs
}

/// Whether the operation goes through bpf(2), which `kernel.unprivileged_bpf_disabled` gates.
fn uses_bpf_syscall(operation: &Operation) -> bool {
    !matches!(
        operation,
        Operation::Attach(AttachKind::PerfEvent | AttachKind::Network) | Operation::Pin { .. }
    )
}

/// Whether lockdown in `mode` refuses the operation with EPERM. Integrity mode (and the kernel
/// reads of confidentiality mode) only withholds helpers, which the verifier reports itself.
fn refused_by_lockdown(operation: &Operation, mode: Lockdown) -> bool {
    // Confidentiality refuses kprobes, perf events reading kernel state and tracefs.
    mode == Lockdown::Confidentiality
        && matches!(
            operation,
            Operation::Attach(AttachKind::PerfEvent | AttachKind::Tracing)
        )
}

/// The likely causes of `operation` being refused with EPERM/EACCES, given `facts`.
pub fn decide(operation: Operation, facts: &Facts) -> PermissionHint {
    let mut causes = Vec::new();
    if let (Operation::Pin { path }, Some(false)) = (&operation, facts.pin_directory_on_bpffs) {
        causes.push(Cause::NotOnBpffs {
            directory: path.parent().map(ToOwned::to_owned).unwrap_or_default(),
        });
    }
    let unprivileged_disabled = facts.unprivileged_bpf_disabled.unwrap_or(0);
    if let Some(caps) = facts.capabilities {
        let has = |capability, or_sys_admin| {
            caps.contains(capability) || (or_sys_admin && caps.contains(Capability::SysAdmin))
        };
        for (capability, or_sys_admin) in needs(&operation, unprivileged_disabled) {
            if !has(capability, or_sys_admin) {
                causes.push(Cause::MissingCapability {
                    capability,
                    or_sys_admin,
                });
            }
        }
        if unprivileged_disabled != 0 && uses_bpf_syscall(&operation) && !has(Capability::Bpf, true)
        {
            causes.push(Cause::UnprivilegedBpfDisabled(unprivileged_disabled));
        }
    }
    if let Some(mode) = facts.lockdown
        && refused_by_lockdown(&operation, mode)
    {
        causes.push(Cause::Lockdown(mode));
    }
    if causes.is_empty() {
        causes.push(Cause::NothingMissing);
    }
    PermissionHint { operation, causes }
}

/// The hint for `operation`, from the facts as they are now.
pub fn hint(operation: Operation) -> PermissionHint {
    let facts = Facts::read(&operation);
    decide(operation, &facts)
}

/// Whether `errno` is a permission refusal a hint explains.
pub(crate) fn is_permission_errno(errno: Option<i32>) -> bool {
    matches!(errno, Some(libc::EPERM | libc::EACCES))
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::CreateMap { map_type } => write!(
                f,
                "creating a {} map",
                super::map_type::map_type_name(*map_type)
            ),
            Operation::LoadProgram { prog_type } if tracing_program(*prog_type) => {
                f.write_str("loading a tracing program")
            }
            Operation::LoadProgram { prog_type } if networking_program(*prog_type) => {
                f.write_str("loading a networking program")
            }
            Operation::LoadProgram { .. } => f.write_str("loading a program"),
            Operation::Attach(AttachKind::PerfEvent) => f.write_str("opening a perf event"),
            Operation::Attach(AttachKind::Network) => f.write_str("attaching to a network hook"),
            Operation::Attach(AttachKind::Tracing) => f.write_str("attaching a tracing program"),
            Operation::Attach(AttachKind::Bpf) => f.write_str("attaching a program"),
            Operation::Pin { path } => write!(f, "pinning at {}", path.display()),
        }
    }
}

impl Cause {
    fn describe(&self, operation: &Operation, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::MissingCapability {
                capability,
                or_sys_admin: true,
            } => write!(
                f,
                "the process lacks {capability} (and CAP_SYS_ADMIN, which would do instead), \
                 which {operation} needs"
            ),
            Cause::MissingCapability { capability, .. } => {
                write!(f, "the process lacks {capability}, which {operation} needs")
            }
            Cause::UnprivilegedBpfDisabled(1) => f.write_str(
                "kernel.unprivileged_bpf_disabled is 1: bpf(2) needs CAP_BPF or CAP_SYS_ADMIN \
                 until the next boot",
            ),
            Cause::UnprivilegedBpfDisabled(value) => write!(
                f,
                "kernel.unprivileged_bpf_disabled is {value}: bpf(2) needs CAP_BPF or \
                 CAP_SYS_ADMIN (root may lift it: sysctl -w kernel.unprivileged_bpf_disabled=0)"
            ),
            Cause::Lockdown(mode @ Lockdown::Confidentiality) => write!(
                f,
                "the kernel is locked down ({mode}): it refuses kprobes, perf events and reads \
                 of kernel memory"
            ),
            Cause::Lockdown(mode) => write!(f, "the kernel is locked down ({mode})"),
            Cause::NotOnBpffs { directory } => write!(
                f,
                "{} is not on a BPF filesystem, where pins must be (as root: mount -t bpf bpf {0})",
                directory.display()
            ),
            Cause::NothingMissing => write!(
                f,
                "the process has the capabilities {operation} needs and neither \
                 kernel.unprivileged_bpf_disabled nor lockdown forbids it; a security module \
                 (SELinux, AppArmor, a BPF LSM) or a seccomp filter may refuse it"
            ),
        }
    }
}

impl fmt::Display for PermissionHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.causes.len() == 1 {
            "likely cause: "
        } else {
            "likely causes: "
        })?;
        for (index, cause) in self.causes.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            cause.describe(&self.operation, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root on the machines this project runs on: every capability but CAP_SYS_RESOURCE.
    fn root_without_sys_resource() -> Facts {
        Facts {
            capabilities: Some(CapabilitySet::from_bits(0x0000_01ff_feff_ffff)),
            unprivileged_bpf_disabled: Some(2),
            lockdown: None,
            pin_directory_on_bpffs: None,
        }
    }

    fn all_capabilities() -> CapabilitySet {
        CapabilitySet::from_bits(0x0000_01ff_ffff_ffff)
    }

    #[test]
    fn arena_without_sys_resource_names_it() {
        let hint = decide(
            Operation::CreateMap {
                map_type: bpf_map_type::BPF_MAP_TYPE_ARENA,
            },
            &root_without_sys_resource(),
        );
        assert_eq!(
            hint.causes,
            [Cause::MissingCapability {
                capability: Capability::SysResource,
                or_sys_admin: false
            }]
        );
        let text = hint.to_string();
        assert!(text.contains("lacks CAP_SYS_RESOURCE"), "{text}");
        assert!(text.contains("BPF_MAP_TYPE_ARENA"), "{text}");
    }

    #[test]
    fn hash_map_as_root_is_not_blamed_on_capabilities() {
        let hint = decide(
            Operation::CreateMap {
                map_type: bpf_map_type::BPF_MAP_TYPE_HASH,
            },
            &root_without_sys_resource(),
        );
        assert_eq!(hint.causes, [Cause::NothingMissing]);
        assert!(hint.to_string().contains("seccomp"), "{hint}");
    }

    #[test]
    fn unprivileged_process_with_bpf_disabled_gets_both_causes() {
        let facts = Facts {
            capabilities: Some(CapabilitySet::default()),
            unprivileged_bpf_disabled: Some(2),
            ..Facts::default()
        };
        let hint = decide(
            Operation::LoadProgram {
                prog_type: bpf_prog_type::BPF_PROG_TYPE_KPROBE,
            },
            &facts,
        );
        assert_eq!(
            hint.causes,
            [
                Cause::MissingCapability {
                    capability: Capability::Bpf,
                    or_sys_admin: true
                },
                Cause::MissingCapability {
                    capability: Capability::Perfmon,
                    or_sys_admin: true
                },
                Cause::UnprivilegedBpfDisabled(2),
            ]
        );
        let text = hint.to_string();
        assert!(text.starts_with("likely causes: "), "{text}");
        assert!(
            text.contains("sysctl -w kernel.unprivileged_bpf_disabled=0"),
            "{text}"
        );
    }

    #[test]
    fn sys_admin_stands_in_for_bpf_perfmon_and_net_admin() {
        let caps = all_capabilities()
            .without(Capability::Bpf)
            .without(Capability::Perfmon)
            .without(Capability::NetAdmin);
        let facts = Facts {
            capabilities: Some(caps),
            unprivileged_bpf_disabled: Some(1),
            ..Facts::default()
        };
        for operation in [
            Operation::LoadProgram {
                prog_type: bpf_prog_type::BPF_PROG_TYPE_XDP,
            },
            Operation::Attach(AttachKind::PerfEvent),
            Operation::Attach(AttachKind::Network),
        ] {
            assert_eq!(
                decide(operation.clone(), &facts).causes,
                [Cause::NothingMissing],
                "{operation}"
            );
        }
    }

    #[test]
    fn perf_events_need_perfmon_and_networking_net_admin() {
        let caps = all_capabilities()
            .without(Capability::SysAdmin)
            .without(Capability::Perfmon)
            .without(Capability::NetAdmin);
        let facts = Facts {
            capabilities: Some(caps),
            ..Facts::default()
        };
        let perf = decide(Operation::Attach(AttachKind::PerfEvent), &facts);
        assert!(perf.to_string().contains("lacks CAP_PERFMON"), "{perf}");
        let net = decide(Operation::Attach(AttachKind::Network), &facts);
        assert!(net.to_string().contains("lacks CAP_NET_ADMIN"), "{net}");
        let sockmap = decide(
            Operation::CreateMap {
                map_type: bpf_map_type::BPF_MAP_TYPE_SOCKMAP,
            },
            &facts,
        );
        assert!(
            sockmap.to_string().contains("lacks CAP_NET_ADMIN"),
            "{sockmap}"
        );
    }

    #[test]
    fn lockdown_is_named_for_kernel_reads() {
        let facts = Facts {
            capabilities: Some(all_capabilities()),
            lockdown: Some(Lockdown::Confidentiality),
            ..Facts::default()
        };
        let hint = decide(Operation::Attach(AttachKind::PerfEvent), &facts);
        assert_eq!(hint.causes, [Cause::Lockdown(Lockdown::Confidentiality)]);
        assert!(hint.to_string().contains("locked down (confidentiality)"));
        let network = decide(Operation::Attach(AttachKind::Network), &facts);
        assert_eq!(network.causes, [Cause::NothingMissing]);
    }

    #[test]
    fn integrity_lockdown_refuses_nothing_before_the_verifier() {
        let facts = Facts {
            capabilities: Some(all_capabilities()),
            lockdown: Some(Lockdown::Integrity),
            ..Facts::default()
        };
        for operation in [
            Operation::LoadProgram {
                prog_type: bpf_prog_type::BPF_PROG_TYPE_KPROBE,
            },
            Operation::Attach(AttachKind::PerfEvent),
        ] {
            assert_eq!(decide(operation, &facts).causes, [Cause::NothingMissing]);
        }
    }

    #[test]
    fn pin_outside_bpffs_names_the_directory() {
        let facts = Facts {
            capabilities: Some(all_capabilities()),
            pin_directory_on_bpffs: Some(false),
            ..Facts::default()
        };
        let hint = decide(
            Operation::Pin {
                path: PathBuf::from("/tmp/x/pin"),
            },
            &facts,
        );
        assert_eq!(
            hint.causes,
            [Cause::NotOnBpffs {
                directory: PathBuf::from("/tmp/x")
            }]
        );
        assert!(
            hint.to_string().contains("mount -t bpf bpf /tmp/x"),
            "{hint}"
        );
    }

    #[test]
    fn unknown_facts_blame_nothing_in_particular() {
        let hint = decide(Operation::Attach(AttachKind::Bpf), &Facts::default());
        assert_eq!(hint.causes, [Cause::NothingMissing]);
    }
}
