//! User-space probes: `uprobe`/`uretprobe` (one function, via the uprobe PMU) and
//! `uprobe.multi` (many offsets of one binary in one `bpf_link`).

use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::perf_event::{
    PerfConfig, PerfEventAttr, PerfEventFlags, perf_event_open, pmu_retprobe_bit, pmu_type,
};

use super::links::{FdLink, define_link_wrapper};
use super::perf_attach::{PerfLinkInner, PerfTarget, perf_attach};
pub use super::type_errors::UProbeError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::uprobe_resolve::{Binary, resolve_binary};
use super::{ProgramError, ProgramSection};
use crate::features;

/// `BPF_F_UPROBE_MULTI_RETURN` (an anonymous enum in the UAPI).
const UPROBE_MULTI_RETURN: u32 = 1;

/// Entry or return probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// Fires when the function is entered.
    Entry,
    /// Fires when the function returns.
    Return,
}

/// Where in a binary a uprobe goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UProbeLocation<'a> {
    /// The start of a function (from `.symtab` or `.dynsym`).
    Symbol(&'a str),
    /// Bytes past the start of a function.
    SymbolOffset(&'a str, u64),
    /// A file offset.
    Offset(u64),
}

impl<'a> From<&'a str> for UProbeLocation<'a> {
    fn from(symbol: &'a str) -> Self {
        UProbeLocation::Symbol(symbol)
    }
}

impl From<u64> for UProbeLocation<'_> {
    fn from(offset: u64) -> Self {
        UProbeLocation::Offset(offset)
    }
}

fn file_offset(binary: &Binary, location: UProbeLocation<'_>) -> Result<u64, UProbeError> {
    Ok(match location {
        UProbeLocation::Symbol(symbol) => binary.symbol_offset(symbol)?,
        UProbeLocation::SymbolOffset(symbol, extra) => binary.symbol_offset(symbol)? + extra,
        UProbeLocation::Offset(offset) => offset,
    })
}

define_link_wrapper!(
    /// A uprobe attachment.
    UProbeLink,
    UProbeLinkId,
    PerfLinkInner
);

/// A `uprobe` or `uretprobe` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::UProbe;
/// use bpf_programs::programs::UProbeLocation;
///
/// // SEC("uprobe") int on_malloc(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut UProbe = bpf.program_mut("on_malloc").unwrap().try_into()?;
/// program.load()?;
/// // Every process's calls of malloc in libc (a library name, a path or a binary on PATH).
/// program.attach(UProbeLocation::Symbol("malloc"), "libc", None, None)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type UProbe = TypedProgram<UProbeKind>;

/// The kind of [`UProbe`] programs.
#[derive(Debug)]
pub enum UProbeKind {}

impl ProgramKind for UProbeKind {
    type Link = UProbeLink;
}

impl LoadWithoutArguments for UProbeKind {}

impl UProbe {
    /// Entry or return probe, from the section name.
    pub fn kind(&self) -> ProbeKind {
        match self.data.section() {
            Some(ProgramSection::UProbe { retprobe: true, .. }) => ProbeKind::Return,
            _ => ProbeKind::Entry,
        }
    }

    /// Attaches at `location` in `target` (a path, a library name such as `libc`, or an
    /// executable on `PATH`), for process `pid` only or for all; `cookie` is what
    /// `bpf_get_attach_cookie()` returns.
    pub fn attach<'a>(
        &mut self,
        location: impl Into<UProbeLocation<'a>>,
        target: impl AsRef<Path>,
        pid: Option<u32>,
        cookie: Option<u64>,
    ) -> Result<UProbeLinkId, ProgramError> {
        let program = self.data.name();
        let path = resolve_binary(program, target.as_ref(), pid)?;
        let offset = match location.into() {
            UProbeLocation::Offset(offset) => offset,
            location => file_offset(&Binary::open(program, &path)?, location)?,
        };
        let pmu = pmu_type("uprobe").map_err(UProbeError::NoPmu)?;
        let config = match self.kind() {
            ProbeKind::Entry => 0,
            ProbeKind::Return => 1u64 << pmu_retprobe_bit("uprobe").map_err(UProbeError::NoPmu)?,
        };
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| UProbeError::Elf {
            program: program.to_owned(),
            path: path.clone(),
            reason: "path contains a NUL byte".to_owned(),
        })?;
        let attr = PerfEventAttr {
            type_: pmu,
            config,
            sample: 1,
            wakeup: 1,
            flags: PerfEventFlags::DISABLED,
            config1: PerfConfig::String(&c_path),
            config2: PerfConfig::Value(offset),
            ..Default::default()
        };
        let (pid, cpu) = match pid {
            Some(pid) => (pid as i32, -1),
            None => (-1, 0),
        };
        let perf_fd =
            perf_event_open(&attr, pid, cpu, None, 0).map_err(|source| UProbeError::Attach {
                program: self.data.name().to_owned(),
                path: path.clone(),
                offset,
                source,
            })?;
        let prog_fd = self.data.fd()?;
        let target = PerfTarget {
            program: self.data.name(),
            event: &|| format!("uprobe `{}:{offset:#x}`", path.display()),
        };
        let inner = perf_attach(target, prog_fd.as_fd(), perf_fd, cookie.unwrap_or(0))?;
        Ok(self.data.links.insert(UProbeLink::new(inner)))
    }
}

impl UProbe {
    /// Attaches where the section says (`uprobe/<binary>:<function>[+<offset>]`).
    pub fn attach_default(&mut self, pid: Option<u32>) -> Result<UProbeLinkId, ProgramError> {
        let target = match self.data.section() {
            Some(ProgramSection::UProbe {
                target: Some(target),
                ..
            }) => target.clone(),
            _ => {
                return Err(UProbeError::NoTarget {
                    program: self.data.name().to_owned(),
                }
                .into());
            }
        };
        let location = match &target.function {
            Some(function) => UProbeLocation::SymbolOffset(function, target.offset),
            None => UProbeLocation::Offset(target.offset),
        };
        self.attach(location, &target.binary, pid, None)
    }
}

define_link_wrapper!(
    /// A uprobe.multi attachment.
    UProbeMultiLink,
    UProbeMultiLinkId,
    FdLink
);

/// A `uprobe.multi` / `uretprobe.multi` program: many probes of one binary in one link.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::UProbeMulti;
///
/// // SEC("uprobe.multi") int on_allocs(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut UProbeMulti = bpf.program_mut("on_allocs").unwrap().try_into()?;
/// program.load()?;
/// program.attach_pattern("*alloc", "libc", None)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type UProbeMulti = TypedProgram<UProbeMultiKind>;

/// The kind of [`UProbeMulti`] programs.
#[derive(Debug)]
pub enum UProbeMultiKind {}

impl ProgramKind for UProbeMultiKind {
    type Link = UProbeMultiLink;
}

impl LoadWithoutArguments for UProbeMultiKind {}

impl UProbeMulti {
    /// Attaches at every location in `target`; `cookies` is empty or one per location.
    pub fn attach(
        &mut self,
        locations: &[UProbeLocation<'_>],
        target: impl AsRef<Path>,
        pid: Option<u32>,
        cookies: &[u64],
    ) -> Result<UProbeMultiLinkId, ProgramError> {
        if !features::uprobe_multi_link() {
            return Err(ProgramError::NotSupported {
                feature: "uprobe.multi links",
            });
        }
        let program = self.data.name();
        let path = resolve_binary(program, target.as_ref(), pid)?;
        let binary = Binary::open(program, &path)?;
        let offsets = locations
            .iter()
            .map(|&location| file_offset(&binary, location))
            .collect::<Result<Vec<u64>, _>>()?;
        self.attach_offsets(&path, &offsets, pid, cookies)
    }

    /// Attaches at every function of `target` whose name matches the glob `pattern`.
    pub fn attach_pattern(
        &mut self,
        pattern: &str,
        target: impl AsRef<Path>,
        pid: Option<u32>,
    ) -> Result<UProbeMultiLinkId, ProgramError> {
        if !features::uprobe_multi_link() {
            return Err(ProgramError::NotSupported {
                feature: "uprobe.multi links",
            });
        }
        let program = self.data.name();
        let path = resolve_binary(program, target.as_ref(), pid)?;
        let matched = Binary::open(program, &path)?.functions_matching(pattern)?;
        if matched.is_empty() {
            return Err(UProbeError::SymbolNotFound {
                program: program.to_owned(),
                symbol: pattern.to_owned(),
                path,
            }
            .into());
        }
        let offsets: Vec<u64> = matched.iter().map(|(_, offset)| *offset).collect();
        self.attach_offsets(&path, &offsets, pid, &[])
    }

    /// Attaches where the section says (`uprobe.multi/<binary>:<pattern>`).
    pub fn attach_default(&mut self, pid: Option<u32>) -> Result<UProbeMultiLinkId, ProgramError> {
        let target = match self.data.section() {
            Some(ProgramSection::UProbeMulti {
                target: Some(target),
                ..
            }) => target.rsplit_once(':'),
            _ => None,
        };
        let Some((binary, pattern)) = target.map(|(b, p)| (b.to_owned(), p.to_owned())) else {
            return Err(UProbeError::NoTarget {
                program: self.data.name().to_owned(),
            }
            .into());
        };
        self.attach_pattern(&pattern, binary, pid)
    }

    fn attach_offsets(
        &mut self,
        path: &Path,
        offsets: &[u64],
        pid: Option<u32>,
        cookies: &[u64],
    ) -> Result<UProbeMultiLinkId, ProgramError> {
        let retprobe = matches!(
            self.data.section(),
            Some(ProgramSection::UProbeMulti { retprobe: true, .. })
        );
        let prog_fd = self.data.fd()?;
        let fd = link_create(&LinkCreateAttr {
            prog_fd: prog_fd.as_fd(),
            target: LinkTarget::None,
            attach_type: bpf_attach_type::BPF_TRACE_UPROBE_MULTI,
            flags: 0,
            kind: LinkKind::UprobeMulti {
                path,
                offsets,
                ref_ctr_offsets: &[],
                cookies,
                flags: if retprobe { UPROBE_MULTI_RETURN } else { 0 },
                pid: pid.unwrap_or(0),
            },
        })
        .map_err(|source| UProbeError::Attach {
            program: self.data.name().to_owned(),
            path: path.to_owned(),
            offset: offsets.first().copied().unwrap_or(0),
            source,
        })?;
        Ok(self
            .data
            .links
            .insert(UProbeMultiLink::new(FdLink::new(fd))))
    }
}
