//! Kernel probes: `kprobe`/`kretprobe` (and `ksyscall`) through the kprobe PMU, and
//! `kprobe.multi` (many functions in one `bpf_link`).

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};

use bpf_sys::generated::{bpf_attach_type, perf_type_id};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::perf_event::{
    PerfConfig, PerfEventAttr, PerfEventFlags, perf_event_open, pmu_retprobe_bit, pmu_type,
};

use super::links::{FdLink, define_link_wrapper};
use super::perf_attach::{PerfLinkInner, PerfTarget, perf_attach};
use super::probe_event::{ProbeAttachMethod, ProbeEvent, ProbeEventFile};
pub use super::type_errors::KProbeError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::uprobe::ProbeKind;
use super::{ProgramError, ProgramSection};
use crate::kernel::functions::kernel_functions_matching;
use crate::kernel::kallsyms;
use crate::kernel::syscalls::syscall_symbol;

/// `BPF_F_KPROBE_MULTI_RETURN` (an anonymous enum in the UAPI).
const KPROBE_MULTI_RETURN: u32 = 1;

fn not_found(program: &str, function: &str) -> KProbeError {
    KProbeError::FunctionNotFound {
        program: program.to_owned(),
        function: function.to_owned(),
    }
}

define_link_wrapper!(
    /// A kprobe attachment.
    KProbeLink,
    KProbeLinkId,
    PerfLinkInner
);

/// A `kprobe`, `kretprobe`, `ksyscall` or `kretsyscall` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::KProbe;
///
/// // SEC("kprobe/do_unlinkat") int on_unlink(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut KProbe = bpf.program_mut("on_unlink").unwrap().try_into()?;
/// program.load()?;
/// program.attach("do_unlinkat", 0)?; // or attach_default(): the section names it
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type KProbe = TypedProgram<KProbeKind>;

/// The kind of [`KProbe`] programs.
#[derive(Debug)]
pub enum KProbeKind {}

impl ProgramKind for KProbeKind {
    type Link = KProbeLink;
}

impl LoadWithoutArguments for KProbeKind {}

impl KProbe {
    /// Entry or return probe, from the section name.
    pub fn kind(&self) -> ProbeKind {
        match self.data.section() {
            Some(ProgramSection::KProbe { retprobe: true, .. })
            | Some(ProgramSection::KSyscall { retprobe: true, .. }) => ProbeKind::Return,
            _ => ProbeKind::Entry,
        }
    }

    /// Attaches at `offset` bytes into kernel function `function`.
    pub fn attach(
        &mut self,
        function: impl AsRef<str>,
        offset: u64,
    ) -> Result<KProbeLinkId, ProgramError> {
        self.attach_with_cookie(function, offset, 0)
    }

    /// Attaches like [`attach`](Self::attach); `bpf_get_attach_cookie()` returns `cookie`.
    pub fn attach_with_cookie(
        &mut self,
        function: impl AsRef<str>,
        offset: u64,
        cookie: u64,
    ) -> Result<KProbeLinkId, ProgramError> {
        self.attach_with_method(function, offset, cookie, ProbeAttachMethod::Auto)
    }

    /// Attaches like [`attach_with_cookie`](Self::attach_with_cookie), through the perf PMU or
    /// a tracefs `kprobe_events` entry as `method` says (`Auto`: the PMU when present).
    pub fn attach_with_method(
        &mut self,
        function: impl AsRef<str>,
        offset: u64,
        cookie: u64,
        method: ProbeAttachMethod,
    ) -> Result<KProbeLinkId, ProgramError> {
        let function = function.as_ref();
        let use_pmu = match method {
            ProbeAttachMethod::Pmu => true,
            ProbeAttachMethod::TraceFs => false,
            ProbeAttachMethod::Auto => pmu_type("kprobe").is_ok(),
        };
        let event = || format!("kprobe `{function}+{offset:#x}`");
        let target = || PerfTarget {
            program: self.data.name(),
            event: &event,
        };
        let inner = if use_pmu {
            let perf_fd = self.open_pmu_event(function, offset)?;
            perf_attach(target(), self.data.fd()?.as_fd(), perf_fd, cookie)?
        } else {
            let event = self.create_probe_event(function, offset)?;
            let attr = PerfEventAttr {
                type_: perf_type_id::PERF_TYPE_TRACEPOINT,
                config: event.id(),
                sample: 1,
                wakeup: 1,
                flags: PerfEventFlags::DISABLED,
                ..Default::default()
            };
            let perf_fd =
                perf_event_open(&attr, -1, 0, None, 0).map_err(|source| KProbeError::Attach {
                    program: self.data.name().to_owned(),
                    function: function.to_owned(),
                    offset,
                    source,
                })?;
            let link = perf_attach(target(), self.data.fd()?.as_fd(), perf_fd, cookie)?;
            PerfLinkInner::ProbeEvent {
                link: Box::new(link),
                event,
            }
        };
        Ok(self.data.links.insert(KProbeLink::new(inner)))
    }

    /// Opens a kprobe perf event through the kprobe PMU.
    fn open_pmu_event(&self, function: &str, offset: u64) -> Result<OwnedFd, ProgramError> {
        let Ok(pmu) = pmu_type("kprobe") else {
            return Err(ProgramError::NotSupported {
                feature: "kprobes (no kprobe PMU)",
            });
        };
        let config = match self.kind() {
            ProbeKind::Entry => 0,
            ProbeKind::Return => match pmu_retprobe_bit("kprobe") {
                Ok(bit) => 1u64 << bit,
                Err(_) => {
                    return Err(ProgramError::NotSupported {
                        feature: "kretprobes (no retprobe bit in the kprobe PMU)",
                    });
                }
            },
        };
        let c_function =
            CString::new(function).map_err(|_| not_found(self.data.name(), function))?;
        let attr = PerfEventAttr {
            type_: pmu,
            config,
            sample: 1,
            wakeup: 1,
            flags: PerfEventFlags::DISABLED,
            config1: PerfConfig::String(&c_function),
            config2: PerfConfig::Value(offset),
            ..Default::default()
        };
        let perf_fd = perf_event_open(&attr, -1, 0, None, 0).map_err(|source| {
            if matches!(source.errno(), Some(libc::ENOENT) | Some(libc::EINVAL))
                && !kallsyms::lists_symbol(function)
            {
                not_found(self.data.name(), function)
            } else {
                KProbeError::Attach {
                    program: self.data.name().to_owned(),
                    function: function.to_owned(),
                    offset,
                    source,
                }
            }
        })?;
        Ok(perf_fd)
    }

    /// Registers the probe in tracefs `kprobe_events`.
    fn create_probe_event(&self, function: &str, offset: u64) -> Result<ProbeEvent, ProgramError> {
        let retprobe = self.kind() == ProbeKind::Return;
        let probe = if offset == 0 {
            function.to_owned()
        } else {
            format!("{function}+{offset}")
        };
        ProbeEvent::create(ProbeEventFile::Kprobe, retprobe, &probe).map_err(|source| {
            if source.kind() == std::io::ErrorKind::Unsupported {
                ProgramError::NotSupported {
                    feature: "kprobes (no kprobe PMU and no tracefs kprobe_events)",
                }
            } else if !kallsyms::lists_symbol(function) {
                not_found(self.data.name(), function).into()
            } else {
                KProbeError::ProbeEvent {
                    program: self.data.name().to_owned(),
                    function: function.to_owned(),
                    offset,
                    source,
                }
                .into()
            }
        })
    }

    /// Attaches at the function (or syscall) named in the section.
    pub fn attach_default(&mut self) -> Result<KProbeLinkId, ProgramError> {
        let (function, offset) = match self.data.section() {
            Some(ProgramSection::KProbe {
                function: Some(function),
                offset,
                ..
            }) => (function.clone(), *offset),
            Some(ProgramSection::KSyscall {
                syscall: Some(syscall),
                ..
            }) => (syscall_symbol(syscall), 0),
            _ => {
                return Err(KProbeError::NoTarget {
                    program: self.data.name().to_owned(),
                }
                .into());
            }
        };
        self.attach(function, offset)
    }
}

define_link_wrapper!(
    /// A kprobe.multi attachment.
    KProbeMultiLink,
    KProbeMultiLinkId,
    FdLink
);

/// A `kprobe.multi` / `kretprobe.multi` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::KProbeMulti;
///
/// // SEC("kprobe.multi/vfs_*") int on_vfs(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut KProbeMulti = bpf.program_mut("on_vfs").unwrap().try_into()?;
/// program.load()?;
/// program.attach_pattern("vfs_*")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type KProbeMulti = TypedProgram<KProbeMultiKind>;

/// The kind of [`KProbeMulti`] programs.
#[derive(Debug)]
pub enum KProbeMultiKind {}

impl ProgramKind for KProbeMultiKind {
    type Link = KProbeMultiLink;
}

impl LoadWithoutArguments for KProbeMultiKind {}

impl KProbeMulti {
    /// Attaches to every function in `functions`; `cookies` is empty or one per function.
    pub fn attach(
        &mut self,
        functions: &[&str],
        cookies: &[u64],
    ) -> Result<KProbeMultiLinkId, ProgramError> {
        let names = functions
            .iter()
            .map(|f| {
                CString::new(*f).map_err(|_| KProbeError::FunctionNotFound {
                    program: self.data.name().to_owned(),
                    function: (*f).to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let syms: Vec<&std::ffi::CStr> = names.iter().map(|n| n.as_c_str()).collect();
        let (retprobe, session) = match self.data.section() {
            Some(ProgramSection::KProbeMulti {
                retprobe, session, ..
            }) => (*retprobe, *session),
            _ => (false, false),
        };
        let prog_fd = self.data.fd()?;
        if !crate::features::kprobe_multi_link() {
            return Err(ProgramError::NotSupported {
                feature: "kprobe.multi links (Linux 5.18)",
            });
        }
        let fd = link_create(&LinkCreateAttr {
            prog_fd: prog_fd.as_fd(),
            target: LinkTarget::None,
            attach_type: if session {
                bpf_attach_type::BPF_TRACE_KPROBE_SESSION
            } else {
                bpf_attach_type::BPF_TRACE_KPROBE_MULTI
            },
            flags: 0,
            kind: LinkKind::KprobeMulti {
                flags: if retprobe { KPROBE_MULTI_RETURN } else { 0 },
                syms: &syms,
                addrs: &[],
                cookies,
            },
        })
        .map_err(|source| match source.errno() {
            Some(libc::EOPNOTSUPP) => ProgramError::NotSupported {
                feature: "kprobe.multi links (no fprobe)",
            },
            Some(libc::ESRCH) | Some(libc::ENOENT) => KProbeError::FunctionNotFound {
                program: self.data.name().to_owned(),
                function: functions.join(", "),
            }
            .into(),
            _ => KProbeError::Attach {
                program: self.data.name().to_owned(),
                function: functions.join(", "),
                offset: 0,
                source,
            }
            .into(),
        })?;
        Ok(self
            .data
            .links
            .insert(KProbeMultiLink::new(FdLink::new(fd))))
    }

    /// Attaches to every kernel function matching `pattern` (`*` and `?` wildcards).
    pub fn attach_pattern(&mut self, pattern: &str) -> Result<KProbeMultiLinkId, ProgramError> {
        let names = kernel_functions_matching(pattern).map_err(|source| ProgramError::Io {
            what: format!("listing kernel functions for pattern `{pattern}`"),
            source,
        })?;
        if names.is_empty() {
            return Err(KProbeError::FunctionNotFound {
                program: self.data.name().to_owned(),
                function: pattern.to_owned(),
            }
            .into());
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.attach(&names, &[])
    }

    /// Attaches to the functions the section names (`kprobe.multi/<pattern>`).
    pub fn attach_default(&mut self) -> Result<KProbeMultiLinkId, ProgramError> {
        match self.data.section() {
            Some(ProgramSection::KProbeMulti {
                pattern: Some(pattern),
                ..
            }) => {
                let pattern = pattern.clone();
                self.attach_pattern(&pattern)
            }
            _ => Err(KProbeError::NoTarget {
                program: self.data.name().to_owned(),
            }
            .into()),
        }
    }
}
