//! USDT probes (`SEC("usdt/<binary>:<provider>:<name>")`), the way libbpf attaches them: for
//! every matching `.note.stapsdt` note of the binary, the probe's argument spec goes into the
//! object's `__bpf_usdt_specs` map under a spec id, and a uprobe at the probe's file offset
//! (with the semaphore as its reference counter, so the kernel bumps it while attached) runs
//! the program with the spec id as its bpf cookie; `bpf_usdt_arg()` of `<bpf/usdt.bpf.h>`
//! then reads the arguments.
//!
//! Kernels without bpf cookies (before 5.15) run the program with nothing but the registers, so
//! the site's address in the process, as the program sees it in the instruction pointer, maps to
//! its spec id in the object's `__bpf_usdt_ip_to_spec_id` map (the header reads it when the
//! loader sets `LINUX_HAS_BPF_COOKIE` to false). A position-independent binary's sites have a
//! different address in every process, so there a probe needs a pid.

use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use std::os::unix::fs::MetadataExt;

use bpf_core::usdt::layout::{IP_TO_SPEC_ID_MAP, SPECS_MAP};
use bpf_core::usdt::{
    SpecLayout, SpecLayoutError, UsdtNote, is_position_independent, parse_maps, parse_notes,
    runtime_address,
};
use bpf_sys::map::MapFd;
use bpf_sys::perf_event::{PerfConfig, PerfEventAttr, PerfEventFlags, perf_event_open, pmu_type};

use super::perf_attach::{PerfLinkInner, PerfTarget, perf_attach};
pub use super::type_errors::UsdtError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::uprobe_resolve::resolve_binary;
use super::{ProgramError, ProgramSection};
use crate::features;

/// `PERF_UPROBE_REF_CTR_OFFSET_SHIFT`: where a uprobe PMU event's `config` takes the
/// reference counter (semaphore) offset.
const REF_CTR_OFFSET_SHIFT: u32 = 32;

/// Spec ids in use, per `__bpf_usdt_specs` map (by kernel map id): links of several programs
/// of one object share the map, and a link can outlive its program.
static SPEC_IDS: Mutex<Option<HashMap<u32, BTreeSet<u32>>>> = Mutex::new(None);

/// Spec ids a link holds in one map; freed when the link goes.
#[derive(Debug)]
pub struct UsdtSpecIds {
    map_id: u32,
    ids: Vec<u32>,
}

impl UsdtSpecIds {
    /// The spec ids (the bpf cookies of the link's uprobes), one per probe site.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    fn allocate(&mut self, max_entries: u32) -> Result<u32, UsdtError> {
        let mut guard = SPEC_IDS.lock().unwrap_or_else(PoisonError::into_inner);
        let used = guard
            .get_or_insert_with(HashMap::new)
            .entry(self.map_id)
            .or_default();
        let id = (0..max_entries)
            .find(|id| !used.contains(id))
            .ok_or(UsdtError::NoSpecIds { max: max_entries })?;
        used.insert(id);
        self.ids.push(id);
        Ok(id)
    }
}

impl Drop for UsdtSpecIds {
    fn drop(&mut self) {
        let mut guard = SPEC_IDS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(maps) = guard.as_mut()
            && let Some(used) = maps.get_mut(&self.map_id)
        {
            for id in &self.ids {
                used.remove(id);
            }
            if used.is_empty() {
                maps.remove(&self.map_id);
            }
        }
    }
}

/// The `__bpf_usdt_ip_to_spec_id` entries of a link (kernels without bpf cookies); removed when
/// the link goes.
#[derive(Debug)]
pub struct UsdtSiteAddresses {
    map: MapFd,
    addresses: Vec<u64>,
}

impl UsdtSiteAddresses {
    /// The site addresses this link keyed its spec ids by.
    pub fn addresses(&self) -> &[u64] {
        &self.addresses
    }

    /// Keys `spec_id` by `address`; a site some other link of the object holds is an error.
    fn insert(&mut self, note: &UsdtNote, address: u64, spec_id: u32) -> Result<(), UsdtError> {
        match self.map.update(
            &address.to_ne_bytes(),
            &spec_id.to_ne_bytes(),
            u64::from(bpf_sys::flags::update::BPF_NOEXIST),
        ) {
            Err(e) if e.errno() == Some(libc::EEXIST) => {
                return Err(UsdtError::SiteInUse {
                    provider: note.provider.clone(),
                    name: note.name.clone(),
                    address,
                });
            }
            result => result.map_err(|source| UsdtError::IpUpdate { address, source })?,
        }
        self.addresses.push(address);
        Ok(())
    }
}

impl Drop for UsdtSiteAddresses {
    fn drop(&mut self) {
        for address in &self.addresses {
            // A failed delete leaves a stale entry, which a later attach reports as a site in use.
            let _ = self.map.delete(&address.to_ne_bytes());
        }
    }
}

/// One USDT attachment: a uprobe per matching probe site, and the spec ids they use.
#[derive(Debug)]
pub struct UsdtLinkInner {
    // Declared first: the uprobes go before their addresses and spec ids are handed out again.
    probes: Vec<PerfLinkInner>,
    site_addresses: Option<UsdtSiteAddresses>,
    spec_ids: UsdtSpecIds,
}

impl UsdtLinkInner {
    /// The uprobe attachments, one per probe site.
    pub fn probes(&self) -> &[PerfLinkInner] {
        &self.probes
    }

    /// The spec ids in use.
    pub fn spec_ids(&self) -> &[u32] {
        self.spec_ids.ids()
    }

    /// The site addresses keying the spec ids, on kernels without bpf cookies (else `None`).
    pub fn site_addresses(&self) -> Option<&[u64]> {
        self.site_addresses
            .as_ref()
            .map(UsdtSiteAddresses::addresses)
    }

    /// Detaches every uprobe and frees the spec ids.
    pub fn detach(self) -> Result<(), ProgramError> {
        drop(self);
        Ok(())
    }
}

super::links::define_link_wrapper!(
    /// A USDT attachment (every site of one probe in one binary).
    UsdtLink,
    UsdtLinkId,
    UsdtLinkInner
);

/// A `usdt` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Usdt;
///
/// // SEC("usdt/libc:libc:setjmp") int on_setjmp(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Usdt = bpf.program_mut("on_setjmp").unwrap().try_into()?;
/// program.load()?;
/// program.attach("libc", "libc", "setjmp", None)?; // binary, provider, probe, pid
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Usdt = TypedProgram<UsdtKind>;

/// The kind of [`Usdt`] programs.
#[derive(Debug)]
pub enum UsdtKind {}

impl ProgramKind for UsdtKind {
    type Link = UsdtLink;
}

impl LoadWithoutArguments for UsdtKind {}

impl Usdt {
    /// Attaches at every site of the probe `provider:name` in `binary` (a path, a library name
    /// such as `libc`, or an executable on `PATH`), for process `pid` only or for all.
    pub fn attach(
        &mut self,
        binary: impl AsRef<Path>,
        provider: &str,
        name: &str,
        pid: Option<u32>,
    ) -> Result<UsdtLinkId, ProgramError> {
        self.attach_with_cookie(binary, provider, name, pid, 0)
    }

    /// As [`attach`](Self::attach); `cookie` is what `bpf_usdt_cookie()` returns.
    pub fn attach_with_cookie(
        &mut self,
        binary: impl AsRef<Path>,
        provider: &str,
        name: &str,
        pid: Option<u32>,
        cookie: u64,
    ) -> Result<UsdtLinkId, ProgramError> {
        let specs = self.specs_map()?;
        let path =
            resolve_binary(self.data.name(), binary.as_ref(), pid).map_err(UsdtError::from)?;
        let (notes, position_independent) = probe_sites(&path, provider, name)?;
        // Without bpf cookies the program finds its spec by the site's address in the process.
        let (locator, site_addresses) = if features::perf_link() {
            (None, None)
        } else {
            let locator = SiteLocator::new(&path, position_independent, pid)?;
            (Some(locator), Some(self.site_addresses_map()?))
        };
        let uprobe = UprobeTarget::new(path, pid)?;
        let mut link = UsdtLinkInner {
            probes: Vec::with_capacity(notes.len()),
            site_addresses,
            spec_ids: UsdtSpecIds {
                map_id: specs.id,
                ids: Vec::new(),
            },
        };
        let prog_fd = self.data.fd()?;
        for note in &notes {
            let bpf_cookie =
                specs.fill_slot(&mut link, locator.as_ref(), note, &uprobe.path, cookie)?;
            let probe = uprobe.attach(self.data.name(), prog_fd.as_fd(), note, bpf_cookie)?;
            link.probes.push(probe);
        }
        Ok(self.data.links.insert(UsdtLink::new(link)))
    }

    /// The object's `__bpf_usdt_specs` map, its values checked against the spec layout the
    /// object's BTF gives.
    fn specs_map(&self) -> Result<SpecsMap, ProgramError> {
        let program = self.data.name();
        let no_specs_map = || UsdtError::NoSpecsMap {
            program: program.to_owned(),
        };
        let context = self.data.context.as_ref().ok_or_else(no_specs_map)?;
        let map_fd = context.map(SPECS_MAP).ok_or_else(no_specs_map)?.fd();
        let btf = context.object.btf.as_ref().ok_or_else(no_specs_map)?;
        let layout_error = |source| UsdtError::Layout {
            program: program.to_owned(),
            source,
        };
        let layout = SpecLayout::from_btf(btf).map_err(layout_error)?;
        let fd = map_fd
            .try_clone_to_owned()
            .map_err(|source| ProgramError::Io {
                what: format!("duplicating the fd of map `{SPECS_MAP}`"),
                source,
            })
            .and_then(|fd| {
                MapFd::from_fd(fd).map_err(ProgramError::syscall("usdt specs map info"))
            })?;
        if fd.value_size() != layout.size {
            return Err(layout_error(SpecLayoutError::BadMember {
                ty: bpf_core::usdt::layout::SPEC_STRUCT,
                member: "(size)",
                reason: format!(
                    "{} bytes, but the map's values have {}",
                    layout.size,
                    fd.value_size()
                ),
            })
            .into());
        }
        let id = bpf_sys::info::map_info(fd.as_fd())
            .map_err(ProgramError::syscall("usdt specs map info"))?
            .info
            .id;
        Ok(SpecsMap { fd, layout, id })
    }

    /// The object's `__bpf_usdt_ip_to_spec_id` map, for kernels without bpf cookies.
    fn site_addresses_map(&self) -> Result<UsdtSiteAddresses, ProgramError> {
        let no_ip_map = || UsdtError::NoIpMap {
            program: self.data.name().to_owned(),
        };
        let context = self.data.context.as_ref().ok_or_else(no_ip_map)?;
        let map = context
            .map(IP_TO_SPEC_ID_MAP)
            .ok_or_else(no_ip_map)?
            .fd()
            .try_clone_to_owned()
            .map_err(|source| ProgramError::Io {
                what: format!("duplicating the fd of map `{IP_TO_SPEC_ID_MAP}`"),
                source,
            })
            .and_then(|fd| MapFd::from_fd(fd).map_err(ProgramError::syscall("usdt ip map info")))?;
        Ok(UsdtSiteAddresses {
            map,
            addresses: Vec::new(),
        })
    }

    /// Attaches where the section says (`usdt/<binary>:<provider>:<name>`).
    pub fn attach_default(&mut self, pid: Option<u32>) -> Result<UsdtLinkId, ProgramError> {
        let Some(ProgramSection::Usdt {
            target: Some(target),
            ..
        }) = self.data.section().cloned()
        else {
            return Err(UsdtError::NoTarget {
                program: self.data.name().to_owned(),
            }
            .into());
        };
        self.attach(&target.binary, &target.provider, &target.name, pid)
    }
}

/// The sites of `provider:name` in the binary at `path`, and whether the binary is
/// position-independent.
fn probe_sites(
    path: &Path,
    provider: &str,
    name: &str,
) -> Result<(Vec<UsdtNote>, bool), UsdtError> {
    // Read, not mapped: while a mapping of the binary exists, the kernel installs the uprobes
    // being registered into it too (any private file mapping may become executable) and bumps
    // the semaphore through it, so a mapping racing an attach can leave a semaphore set.
    let bytes = std::fs::read(path).map_err(|e| UsdtError::Elf {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let notes_error = |source| UsdtError::Notes {
        path: path.to_owned(),
        source,
    };
    let notes = parse_notes(&bytes).map_err(notes_error)?;
    let position_independent = is_position_independent(&bytes).map_err(notes_error)?;
    let sites: Vec<UsdtNote> = notes
        .into_iter()
        .filter(|n| n.provider == provider && n.name == name)
        .collect();
    if sites.is_empty() {
        return Err(UsdtError::ProbeNotFound {
            provider: provider.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
        });
    }
    Ok((sites, position_independent))
}

/// Where the sites of one binary run, for `__bpf_usdt_ip_to_spec_id`: their link-time address
/// in a fixed-address executable, else an address in the mappings of the process `pid`.
enum SiteLocator {
    FixedAddress,
    Mapped(ProcessMapping),
}

/// A position-independent binary as one process has it mapped.
struct ProcessMapping {
    pid: u32,
    mappings: Vec<bpf_core::usdt::Mapping>,
    /// The binary's device (major, minor) and inode, which its mappings name.
    device: (u32, u32),
    inode: u64,
}

impl SiteLocator {
    fn new(
        path: &Path,
        position_independent: bool,
        pid: Option<u32>,
    ) -> Result<SiteLocator, UsdtError> {
        if !position_independent {
            return Ok(SiteLocator::FixedAddress);
        }
        let pid = pid.ok_or_else(|| UsdtError::NeedsPid {
            path: path.to_owned(),
        })?;
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .map_err(|source| UsdtError::ProcessMaps { pid, source })?;
        let metadata = std::fs::metadata(path).map_err(|e| UsdtError::Elf {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(SiteLocator::Mapped(ProcessMapping {
            pid,
            mappings: parse_maps(&maps),
            device: (libc::major(metadata.dev()), libc::minor(metadata.dev())),
            inode: metadata.ino(),
        }))
    }

    fn address(&self, note: &UsdtNote, path: &Path) -> Result<u64, UsdtError> {
        let SiteLocator::Mapped(process) = self else {
            return Ok(note.address);
        };
        runtime_address(
            &process.mappings,
            process.device,
            process.inode,
            note.file_offset,
        )
        .ok_or_else(|| UsdtError::NotMapped {
            provider: note.provider.clone(),
            name: note.name.clone(),
            path: path.to_owned(),
            pid: process.pid,
            offset: note.file_offset,
        })
    }
}

/// The object's spec map: where each probe site's argument spec goes, under a spec id.
struct SpecsMap {
    fd: MapFd,
    layout: SpecLayout,
    id: u32,
}

impl SpecsMap {
    /// Writes `note`'s argument spec into a free slot; returns the bpf cookie its uprobe runs
    /// the program with (the spec id, or 0 where the site's address maps to it).
    fn fill_slot(
        &self,
        link: &mut UsdtLinkInner,
        locator: Option<&SiteLocator>,
        note: &UsdtNote,
        path: &Path,
        cookie: u64,
    ) -> Result<u64, ProgramError> {
        let args = note.parse_args().map_err(|source| UsdtError::Notes {
            path: path.to_owned(),
            source,
        })?;
        let value = self
            .layout
            .encode(&args, cookie)
            .map_err(|source| UsdtError::Spec {
                provider: note.provider.clone(),
                name: note.name.clone(),
                path: path.to_owned(),
                source: Box::new(source),
            })?;
        let spec_id = link.spec_ids.allocate(self.fd.max_entries())?;
        self.fd
            .update(&spec_id.to_ne_bytes(), &value, 0)
            .map_err(|source| UsdtError::SpecUpdate { spec_id, source })?;
        match (locator, link.site_addresses.as_mut()) {
            (Some(locator), Some(addresses)) => {
                addresses.insert(note, locator.address(note, path)?, spec_id)?;
                Ok(0)
            }
            _ => Ok(u64::from(spec_id)),
        }
    }
}

/// The binary the uprobes go into, and the process (or all) they fire for.
struct UprobeTarget {
    path: PathBuf,
    c_path: CString,
    pmu: u32,
    pid: i32,
    cpu: i32,
}

impl UprobeTarget {
    fn new(path: PathBuf, pid: Option<u32>) -> Result<UprobeTarget, ProgramError> {
        let pmu = pmu_type("uprobe").map_err(UsdtError::NoPmu)?;
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| UsdtError::Elf {
            path: path.clone(),
            reason: "path contains a NUL byte".to_owned(),
        })?;
        let (pid, cpu) = match pid {
            Some(pid) => (pid as i32, -1),
            None => (-1, 0),
        };
        Ok(UprobeTarget {
            path,
            c_path,
            pmu,
            pid,
            cpu,
        })
    }

    /// Opens a uprobe at `note` (its semaphore as the reference counter, so the kernel bumps it
    /// while attached) and attaches the program to it.
    fn attach(
        &self,
        program: &str,
        prog_fd: BorrowedFd<'_>,
        note: &UsdtNote,
        bpf_cookie: u64,
    ) -> Result<PerfLinkInner, ProgramError> {
        let ref_ctr = note.semaphore_offset.unwrap_or(0);
        let attr = PerfEventAttr {
            type_: self.pmu,
            config: ref_ctr << REF_CTR_OFFSET_SHIFT,
            sample: 1,
            wakeup: 1,
            flags: PerfEventFlags::DISABLED,
            config1: PerfConfig::String(&self.c_path),
            config2: PerfConfig::Value(note.file_offset),
            ..Default::default()
        };
        let perf_fd = perf_event_open(&attr, self.pid, self.cpu, None, 0).map_err(|source| {
            UsdtError::Attach {
                program: program.to_owned(),
                provider: note.provider.clone(),
                name: note.name.clone(),
                path: self.path.clone(),
                offset: note.file_offset,
                source,
            }
        })?;
        let target = PerfTarget {
            program,
            event: &|| {
                format!(
                    "USDT probe `{}:{}` at `{}:{:#x}`",
                    note.provider,
                    note.name,
                    self.path.display(),
                    note.file_offset
                )
            },
        };
        perf_attach(target, prog_fd, perf_fd, bpf_cookie)
    }
}
