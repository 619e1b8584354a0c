//! [`ProgramData`]: the state and the one load path every program type shares.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bpf_core::btf::core::CoreTarget;
use bpf_core::obj::{ExternKind, Object, ProgramSection, SlotTarget};
use bpf_core::relocation::{Bindings, KsymValue, MapReference, RelocatedProgram};
use bpf_sys::VerifierLog;
use bpf_sys::generated::bpf_insn;
use bpf_sys::info::prog_info;
use bpf_sys::obj::{obj_get, obj_pin};
use bpf_sys::prog::{ProgLoadAttr, prog_load_with_log};

use super::links::{Link, LinkMap};
use super::test_run::{self, TestRunOptions, TestRunOutput};
use super::{ProgramError, ProgramInfo, ProgramLoadFlags, RejectedInstruction};
use crate::kernel::btf as kernel_btf;
use crate::kernel::permission::Operation;
use crate::kernel::{KernelFactError, features, kallsyms};
use crate::object_btf::{LoadedBtf, TargetBtf, core_target};

bitflags::bitflags! {
    /// How much the verifier should say when loading (the log is kept on success too).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct VerifierLogLevel: u32 {
        /// The verifier's instruction-by-instruction log.
        const DEBUG = 1;
        /// Every state the verifier explores.
        const VERBOSE = 2;
        /// Statistics (instructions processed, states, time).
        const STATS = 4;
    }
}

/// A loaded program's fd.
#[derive(Debug)]
pub struct ProgramFd(OwnedFd);

impl ProgramFd {
    /// A second fd for the same program.
    pub fn try_clone(&self) -> std::io::Result<ProgramFd> {
        self.0.try_clone().map(ProgramFd)
    }

    /// Gives up the wrapper.
    pub fn into_inner(self) -> OwnedFd {
        self.0
    }
}

impl AsFd for ProgramFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl From<OwnedFd> for ProgramFd {
    fn from(fd: OwnedFd) -> ProgramFd {
        ProgramFd(fd)
    }
}

/// Whether the kernel runs programs of this type and attach type through a BPF trampoline.
fn needs_trampoline(
    prog_type: bpf_sys::generated::bpf_prog_type::Type,
    attach_type: bpf_sys::generated::bpf_attach_type::Type,
) -> bool {
    use bpf_sys::generated::bpf_attach_type::*;
    use bpf_sys::generated::bpf_prog_type::*;
    match prog_type {
        BPF_PROG_TYPE_EXT | BPF_PROG_TYPE_LSM => true,
        BPF_PROG_TYPE_TRACING => matches!(
            attach_type,
            BPF_TRACE_FENTRY | BPF_TRACE_FEXIT | BPF_MODIFY_RETURN
        ),
        _ => false,
    }
}

/// What programs of one object share: the parsed object and the fds of its maps and BTF.
#[derive(Debug)]
pub(crate) struct ObjectContext {
    pub(crate) object: Object,
    /// Duplicates of the map fds, so programs stay loadable after `take_map`.
    pub(crate) map_fds: HashMap<String, OwnedFd>,
    /// Where the `__arena` globals sit in the object's arena map.
    pub(crate) arena_data_offset: Option<u64>,
    pub(crate) btf: Option<LoadedBtf>,
    pub(crate) target_btf: TargetBtf,
    /// Computed on the first load that needs it.
    pub(crate) core_target: OnceLock<Result<CoreTarget, KernelFactError>>,
    /// Kernel symbols and kfuncs for the object's externs, looked up on the first load.
    pub(crate) externs: OnceLock<Result<KernelExterns, KernelFactError>>,
}

/// The object's externs as found in the kernel, with the BTF objects of the modules defining
/// some of them (kept open: loads refer to them by fd and through `fd_array`).
#[derive(Debug, Default)]
pub(crate) struct KernelExterns {
    bindings: Bindings,
    module_btfs: Vec<(String, OwnedFd)>,
}

impl KernelExterns {
    /// The `fd_array` of a load: slot 0 is never read (index 0 means vmlinux), module `i` is at
    /// `i + 1`.
    fn fd_array(&self) -> Vec<BorrowedFd<'_>> {
        let fds = self.module_btfs.iter().map(|(_, fd)| fd.as_fd());
        fds.clone().take(1).chain(fds).collect()
    }

    /// The `fd_array` index and fd of `module`'s BTF object, opened on first use.
    fn module_btf(&mut self, module: &str) -> Result<(i16, i32), KernelFactError> {
        let index = match self.module_btfs.iter().position(|(name, _)| name == module) {
            Some(index) => index,
            None => {
                let fd = kernel_btf::module_btf_fd(module)?;
                self.module_btfs.push((module.to_owned(), fd));
                self.module_btfs.len() - 1
            }
        };
        let slot = i16::try_from(index + 1)
            .map_err(|_| KernelFactError::TooManyModuleBtfs { count: index + 1 })?;
        Ok((slot, self.module_btfs[index].1.as_raw_fd()))
    }
}

impl ObjectContext {
    fn core_target(&self, program: &str) -> Result<CoreTarget, ProgramError> {
        self.core_target
            .get_or_init(|| core_target(&self.target_btf))
            .clone()
            .map_err(|source| ProgramError::CoreTarget {
                program: program.to_owned(),
                source,
            })
    }

    /// Whether any function linked into `relocated` carries CO-RE relocations.
    fn needs_core(&self, relocated: &RelocatedProgram) -> bool {
        relocated.functions.iter().any(|(name, _)| {
            self.object
                .functions
                .values()
                .any(|f| &f.name == name && !f.core_relocations.is_empty())
        })
    }

    fn relocate(&self, program: &str) -> Result<RelocatedProgram, ProgramError> {
        let mut bindings = Bindings {
            arena_data_offset: self.arena_data_offset,
            ..Bindings::default()
        };
        for (name, fd) in &self.map_fds {
            bindings
                .maps
                .insert(name.clone(), MapReference::Fd(fd.as_raw_fd()));
        }
        self.resolve_externs(program, &mut bindings)?;
        let relocation_error = |source| ProgramError::Relocation {
            program: program.to_owned(),
            source: Box::new(source),
        };
        let relocated = self
            .object
            .relocate(program, &bindings)
            .map_err(relocation_error)?;
        if !self.needs_core(&relocated) {
            return Ok(relocated);
        }
        // The target BTF is read only for programs that have CO-RE relocations.
        bindings.core_target = Some(self.core_target(program)?);
        self.object
            .relocate(program, &bindings)
            .map_err(relocation_error)
    }

    /// The kernel symbols the object's externs name, looked up once per object; unresolved
    /// ones are reported by relocation, and only for programs that use them.
    fn resolve_externs(&self, program: &str, bindings: &mut Bindings) -> Result<(), ProgramError> {
        let resolved = self
            .externs
            .get_or_init(|| self.lookup_externs())
            .as_ref()
            .map_err(|source| ProgramError::KernelBtf {
                program: program.to_owned(),
                source: source.clone(),
            })?;
        bindings.ksyms.clone_from(&resolved.bindings.ksyms);
        bindings.kfuncs.clone_from(&resolved.bindings.kfuncs);
        Ok(())
    }

    /// The `fd_array` loads of this object pass (module BTF objects of its kfuncs).
    fn fd_array(&self) -> Vec<BorrowedFd<'_>> {
        match self.externs.get() {
            Some(Ok(externs)) => externs.fd_array(),
            _ => Vec::new(),
        }
    }

    fn lookup_externs(&self) -> Result<KernelExterns, KernelFactError> {
        let mut externs = KernelExterns::default();
        let by_address: Vec<&str> = self
            .object
            .externs
            .iter()
            .filter(|e| matches!(e.kind, ExternKind::TypelessKsym | ExternKind::Untyped))
            .map(|e| e.name.as_str())
            .collect();
        let kallsyms = kallsyms::addresses(&by_address).unwrap_or_default();
        for ext in &self.object.externs {
            match ext.kind {
                ExternKind::TypelessKsym | ExternKind::Untyped => {
                    if let Some(&address) = kallsyms.get(&ext.name) {
                        externs
                            .bindings
                            .ksyms
                            .insert(ext.name.clone(), KsymValue::Address(address));
                    }
                }
                ExternKind::Kfunc { .. } => {
                    if let Some((btf_id, module)) =
                        kernel_btf::find_in_kernel(&ext.name, bpf_core::btf::BtfKind::Func)?
                    {
                        let (fd_array_index, btf_obj_fd) = match module {
                            Some(module) => externs.module_btf(&module)?,
                            None => (0, 0),
                        };
                        externs.bindings.kfuncs.insert(
                            ext.name.clone(),
                            bpf_core::relocation::KfuncValue {
                                btf_id,
                                fd_array_index,
                                btf_obj_fd,
                            },
                        );
                    }
                }
                ExternKind::TypedKsym { .. } => {
                    if let Some((btf_id, module)) =
                        kernel_btf::find_in_kernel(&ext.name, bpf_core::btf::BtfKind::Var)?
                    {
                        let btf_obj_fd = match module {
                            Some(module) => externs.module_btf(&module)?.1,
                            None => 0,
                        };
                        externs
                            .bindings
                            .ksyms
                            .insert(ext.name.clone(), KsymValue::BtfId { btf_id, btf_obj_fd });
                    }
                }
                ExternKind::Kconfig { .. } => {}
            }
        }
        Ok(externs)
    }

    /// Fills `.values` slots of prog arrays that name `program`.
    fn fill_program_slots(&self, program: &str, fd: BorrowedFd<'_>) -> Result<(), ProgramError> {
        for map in &self.object.maps {
            for slot in &map.initial_slots {
                if slot.target != SlotTarget::Program(program.to_owned()) {
                    continue;
                }
                let Some(map_fd) = self.map_fds.get(&map.name) else {
                    continue;
                };
                let map_fd = map_fd
                    .try_clone()
                    .map_err(|source| ProgramError::Io {
                        what: format!("duplicating the fd of map `{}`", map.name),
                        source,
                    })
                    .and_then(|fd| {
                        bpf_sys::map::MapFd::from_fd(fd)
                            .map_err(ProgramError::syscall("prog array info"))
                    })?;
                let value = (fd.as_raw_fd() as u32).to_ne_bytes();
                map_fd
                    .update(&slot.index.to_ne_bytes(), &value, 0)
                    .map_err(|source| ProgramError::ProgramSyscall {
                        program: program.to_owned(),
                        what: "filling a prog array slot",
                        source,
                    })?;
            }
        }
        Ok(())
    }
}

/// Names the CO-RE relocations the target could not satisfy, for the load error.
fn describe_poisoned(relocated: &RelocatedProgram) -> String {
    if relocated.core_poisoned.is_empty() {
        return String::new();
    }
    let list: Vec<String> = relocated
        .core_poisoned
        .iter()
        .map(|(function, relo)| {
            format!(
                "`{}` ({:?}) in `{function}` at instruction {}",
                relo.access, relo.kind, relo.insn_index
            )
        })
        .collect();
    format!(
        "\nCO-RE relocations the target BTF cannot satisfy (their instructions were poisoned): {}",
        list.join(", ")
    )
}

/// The instruction `log` names as refused, from the instructions submitted.
fn rejected_instruction(log: &str, insns: &[bpf_insn]) -> Option<Box<RejectedInstruction>> {
    use bpf_core::disasm::{KfuncNames, NoSymbols, format_context, rejected_insn_index};
    let index = rejected_insn_index(log)?;
    let calls_kfuncs = insns.iter().any(|i| i.code == 0x85 && i.src_reg() == 2);
    // The verifier names kfuncs from the kernel's BTF; read it only when there are some.
    let kernel = calls_kfuncs.then(kernel_btf::vmlinux).and_then(Result::ok);
    let context = match &kernel {
        Some(btf) => format_context(insns, index, 2, &KfuncNames(btf)),
        None => format_context(insns, index, 2, &NoSymbols),
    };
    (!context.is_empty()).then(|| Box::new(RejectedInstruction { index, context }))
}

/// A program before its type wrapper is chosen.
#[derive(Debug)]
pub(crate) struct UntypedData {
    pub(crate) name: String,
    pub(crate) section: ProgramSection,
    pub(crate) context: Arc<ObjectContext>,
    pub(crate) log_level: VerifierLogLevel,
    pub(crate) load_flags: ProgramLoadFlags,
}

impl UntypedData {
    pub(crate) fn typed<T: Link>(self) -> ProgramData<T> {
        ProgramData {
            name: self.name,
            section: Some(self.section),
            context: Some(self.context),
            fd: None,
            links: LinkMap::default(),
            log_level: self.log_level,
            load_flags: self.load_flags,
            verifier_log: VerifierLog::default(),
            expected_attach_type: None,
            attach_btf_id: None,
            attach_btf_obj_fd: None,
            attach_prog_fd: None,
            autoload: None,
            pinned: None,
        }
    }
}

/// State shared by all program types: section, instructions source, fd and owned links.
#[derive(Debug)]
pub struct ProgramData<T: Link> {
    pub(crate) name: String,
    pub(crate) section: Option<ProgramSection>,
    pub(crate) context: Option<Arc<ObjectContext>>,
    // Links are declared before the fd so that they detach before the program fd closes.
    pub(crate) links: LinkMap<T>,
    pub(crate) fd: Option<ProgramFd>,
    pub(crate) log_level: VerifierLogLevel,
    /// Asked for by the user; the section's own flags are added at load.
    pub(crate) load_flags: ProgramLoadFlags,
    pub(crate) verifier_log: VerifierLog,
    /// Overrides the section's expected attach type.
    pub(crate) expected_attach_type: Option<u32>,
    pub(crate) attach_btf_id: Option<u32>,
    pub(crate) attach_btf_obj_fd: Option<OwnedFd>,
    pub(crate) attach_prog_fd: Option<OwnedFd>,
    /// Set by the user; else the section decides (`SEC("?...")` is off).
    pub(crate) autoload: Option<bool>,
    pinned: Option<PathBuf>,
}

impl<T: Link> ProgramData<T> {
    /// The program's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// False for libbpf's `SEC("?...")` programs, loaded only when asked for by name.
    pub(crate) fn autoload(&self) -> bool {
        if let Some(autoload) = self.autoload {
            return autoload;
        }
        self.context.as_ref().is_none_or(|context| {
            context
                .object
                .programs
                .iter()
                .find(|p| p.name == self.name)
                .is_none_or(|p| p.autoload)
        })
    }

    /// The section it came from (`None` when opened from a pin).
    pub fn section(&self) -> Option<&ProgramSection> {
        self.section.as_ref()
    }

    /// Sets the verifier log level of the next load.
    pub fn set_verifier_log_level(&mut self, level: VerifierLogLevel) {
        self.log_level = level;
    }

    /// Sets the load flags of the next load (added to those the section implies).
    pub fn set_load_flags(&mut self, flags: ProgramLoadFlags) {
        self.load_flags = flags;
    }

    /// The load flags set by the user (without those the section implies).
    pub fn load_flags(&self) -> ProgramLoadFlags {
        self.load_flags
    }

    /// How many links the program currently owns.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    pub(crate) fn fd(&self) -> Result<&ProgramFd, ProgramError> {
        self.fd.as_ref().ok_or_else(|| ProgramError::NotLoaded {
            program: self.name.clone(),
        })
    }

    /// Wraps a syscall failure with this program's name.
    pub(crate) fn syscall_error(
        &self,
        what: &'static str,
    ) -> impl FnOnce(bpf_sys::SyscallError) -> ProgramError + use<T> {
        let program = self.name.clone();
        let prog_type = self.section.as_ref().and_then(ProgramSection::prog_type);
        move |source| {
            let operation = super::error::attach_operation(source.command, prog_type);
            ProgramError::ProgramSyscall {
                program,
                what,
                source,
            }
            .explain_denied_as(operation)
        }
    }

    /// Relocates and loads the program; type modules set attach fields beforehand.
    pub(crate) fn load(&mut self) -> Result<(), ProgramError> {
        if self.fd.is_some() {
            return Err(ProgramError::AlreadyLoaded {
                program: self.name.clone(),
            });
        }
        let (Some(context), Some(section)) = (&self.context, &self.section) else {
            return Err(ProgramError::NoInstructions {
                program: self.name.clone(),
            });
        };
        let Some(prog_type) = section.prog_type() else {
            return Err(ProgramError::UnknownSection {
                program: self.name.clone(),
                section: match section {
                    ProgramSection::Unknown(name) => name.clone(),
                    _ => String::new(),
                },
            });
        };
        let relocated = context.relocate(&self.name)?;
        let with_btf = context.btf.as_ref().is_some_and(|btf| btf.func_info);
        let func_info = if with_btf {
            relocated.func_info_bytes()
        } else {
            Vec::new()
        };
        let line_info = if with_btf {
            relocated.line_info_bytes()
        } else {
            Vec::new()
        };
        let prog_flags = (self.load_flags | ProgramLoadFlags::implied_by(section)).bits();
        let name = if features::prog_name() {
            self.name.as_str()
        } else {
            ""
        };
        let license = context.object.license.as_deref().unwrap_or("");
        let fd_array = context.fd_array();
        let attr = ProgLoadAttr {
            prog_type,
            expected_attach_type: self
                .expected_attach_type
                .or_else(|| section.expected_attach_type())
                .unwrap_or(0),
            name,
            insns: &relocated.insns,
            license,
            kern_version: context.object.kernel_version.unwrap_or(0),
            prog_flags,
            prog_btf_fd: context.btf.as_ref().map(|btf| btf.fd.as_fd()),
            func_info: &func_info,
            func_info_rec_size: relocated.func_info_rec_size,
            line_info: &line_info,
            line_info_rec_size: relocated.line_info_rec_size,
            attach_btf_id: self.attach_btf_id.unwrap_or(0),
            attach_btf_obj_fd: self.attach_btf_obj_fd.as_ref().map(|fd| fd.as_fd()),
            attach_prog_fd: self.attach_prog_fd.as_ref().map(|fd| fd.as_fd()),
            log_level: self.log_level.bits(),
            fd_array: &fd_array,
            ..Default::default()
        };
        let loaded = prog_load_with_log(&attr).map_err(|source| {
            if source.errno() == Some(libc::EINVAL)
                && features::kernel_knows_prog_type(prog_type) == Some(false)
            {
                return ProgramError::ProgramTypeNotSupported {
                    program: self.name.clone(),
                    prog_type,
                };
            }
            if let Some(flag) = self.unknown_load_flag(&source) {
                return ProgramError::LoadFlagNotSupported {
                    program: self.name.clone(),
                    flag,
                    source,
                };
            }
            if source.errno() == Some(libc::EPERM)
                && needs_trampoline(prog_type, attr.expected_attach_type)
                && !features::trampolines()
            {
                return ProgramError::ProgramNotSupported {
                    program: self.name.clone(),
                    feature: "BPF trampolines (fentry, fexit, fmod_ret, lsm and freplace \
                              programs are refused with EPERM before verification)",
                };
            }
            // A verifier that said something ran: its EACCES is about the program, not about
            // privileges, which the kernel checks before verifying.
            let checked_privileges_only = source.verifier_log.is_empty();
            let rejected = rejected_instruction(&source.verifier_log.text, &relocated.insns);
            let error = ProgramError::Load {
                program: self.name.clone(),
                source,
                unsatisfied_core: describe_poisoned(&relocated),
                rejected,
            };
            if checked_privileges_only {
                error.explain_denied(|| Operation::LoadProgram { prog_type })
            } else {
                error
            }
        })?;
        context.fill_program_slots(&self.name, loaded.fd.as_fd())?;
        self.verifier_log = loaded.verifier_log;
        self.fd = Some(ProgramFd(loaded.fd));
        Ok(())
    }

    /// The first flag the user asked for that the kernel does not know, when the load was
    /// refused before verification (EINVAL, no log), as unknown flags are.
    fn unknown_load_flag(&self, error: &bpf_sys::LoadError) -> Option<ProgramLoadFlags> {
        if error.errno() != Some(libc::EINVAL) || !error.verifier_log.is_empty() {
            return None;
        }
        self.load_flags
            .iter()
            .find(|flag| !features::load_flag_known(flag.bits()))
    }

    /// The program's type and attach type: from its section, or from the kernel for a program
    /// opened from a pin (whose attach type the kernel does not report).
    fn kernel_type(&self) -> Result<(u32, Option<u32>), ProgramError> {
        if let Some(prog_type) = self.section.as_ref().and_then(ProgramSection::prog_type) {
            let attach_type = self
                .expected_attach_type
                .or_else(|| self.section.as_ref()?.expected_attach_type());
            return Ok((prog_type, Some(attach_type.unwrap_or(0))));
        }
        let info = prog_info(self.fd()?.as_fd()).map_err(self.syscall_error("program info"))?;
        Ok((info.prog_type(), None))
    }

    /// Runs the loaded program under `BPF_PROG_TEST_RUN`; types the kernel cannot test-run
    /// are refused by type, loaded or not.
    pub(crate) fn test_run(
        &self,
        options: TestRunOptions<'_>,
    ) -> Result<TestRunOutput, ProgramError> {
        let (prog_type, attach_type) = self.kernel_type()?;
        test_run::check_supported(&self.name, prog_type, attach_type)?;
        let fd = self.fd()?;
        Ok(test_run::run(fd.as_fd(), &self.name, prog_type, options)?)
    }

    pub(crate) fn unload(&mut self) -> Result<(), ProgramError> {
        self.links.clear();
        self.fd
            .take()
            .map(drop)
            .ok_or_else(|| ProgramError::NotLoaded {
                program: self.name.clone(),
            })
    }

    pub(crate) fn info(&self) -> Result<ProgramInfo, ProgramError> {
        let fd = self.fd()?;
        let info = prog_info(fd.as_fd()).map_err(self.syscall_error("program info"))?;
        Ok(ProgramInfo::new(
            info,
            crate::fdinfo::fdinfo_u64(fd.as_fd(), "memlock"),
        ))
    }

    pub(crate) fn pin(&mut self, path: &Path) -> Result<(), ProgramError> {
        let fd = self.fd()?;
        crate::kernel::fs::prepare_pin(path).map_err(|source| ProgramError::PinFilesystem {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        obj_pin(fd.as_fd(), path).map_err(|source| {
            ProgramError::pin(|| format!("program `{}`", self.name), path, source)
        })?;
        self.pinned = Some(path.to_owned());
        Ok(())
    }

    pub(crate) fn unpin(&mut self) -> Result<(), ProgramError> {
        if let Some(path) = self.pinned.take() {
            std::fs::remove_file(&path).map_err(|source| ProgramError::Io {
                what: format!("removing pin {}", path.display()),
                source,
            })?;
        }
        Ok(())
    }

    pub(crate) fn from_pin(path: &Path) -> Result<ProgramData<T>, ProgramError> {
        let fd = obj_get(path, 0).map_err(|source| ProgramError::Pin {
            path: path.to_owned(),
            source,
        })?;
        let info = prog_info(fd.as_fd()).map_err(ProgramError::syscall("program info"))?;
        Ok(ProgramData {
            name: info.name.clone(),
            section: None,
            context: None,
            links: LinkMap::default(),
            fd: Some(ProgramFd(fd)),
            log_level: VerifierLogLevel::empty(),
            load_flags: ProgramLoadFlags::empty(),
            verifier_log: VerifierLog::default(),
            expected_attach_type: None,
            attach_btf_id: None,
            attach_btf_obj_fd: None,
            attach_prog_fd: None,
            autoload: None,
            pinned: Some(path.to_owned()),
        })
    }
}
