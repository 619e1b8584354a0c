//! [`ProgramData`]: the state and the one load path every program type shares.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpf_core::obj::ProgramSection;
use bpf_core::relocation::RelocatedProgram;
use bpf_sys::LoadError;
use bpf_sys::VerifierLog;
use bpf_sys::generated::bpf_insn;
use bpf_sys::info::prog_info;
use bpf_sys::obj::{obj_get, obj_pin};
use bpf_sys::prog::{LoadedProg, ProgLoadAttr, prog_load_with_log};

use super::links::{Link, LinkMap};
use super::test_run::{self, TestRunOptions, TestRunOutput};
use super::{ProgramError, ProgramInfo, ProgramLoadFlags, RejectedInstruction};
use crate::kernel::btf as kernel_btf;
use crate::kernel::features;
use crate::kernel::permission::Operation;
use crate::loader::{LoadSession, SessionError};

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

/// A failed step of the load session, as an error of program `program`.
fn session_error(program: &str, error: SessionError) -> ProgramError {
    let program = program.to_owned();
    match error {
        SessionError::Relocation(source) => ProgramError::Relocation {
            program,
            source: Box::new(source),
        },
        SessionError::CoreTarget(source) => ProgramError::CoreTarget { program, source },
        SessionError::KernelBtf(source) => ProgramError::KernelBtf { program, source },
        SessionError::ProgramSlot { index, source } => ProgramError::ProgramArraySlot {
            program,
            index,
            source,
        },
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
    pub(crate) context: Arc<LoadSession>,
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
    pub(crate) context: Option<Arc<LoadSession>>,
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
        let context = Arc::clone(context);
        let Some(prog_type) = section.prog_type() else {
            return Err(ProgramError::UnknownSection {
                program: self.name.clone(),
                section: match section {
                    ProgramSection::Unknown(name) => name.clone(),
                    _ => String::new(),
                },
            });
        };
        let relocated = context
            .relocate(&self.name)
            .map_err(|e| session_error(&self.name, e))?;
        let loaded = self.load_relocated(&context, section, prog_type, &relocated)?;
        context
            .fill_program_slots(&self.name, loaded.fd.as_fd())
            .map_err(|e| session_error(&self.name, e))?;
        self.verifier_log = loaded.verifier_log;
        self.fd = Some(ProgramFd(loaded.fd));
        Ok(())
    }

    /// Submits the relocated instructions with the object's BTF and the attach fields set.
    fn load_relocated(
        &self,
        context: &LoadSession,
        section: &ProgramSection,
        prog_type: u32,
        relocated: &RelocatedProgram,
    ) -> Result<LoadedProg, ProgramError> {
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
        prog_load_with_log(&attr).map_err(|source| self.load_error(source, &attr, relocated))
    }

    /// Why the kernel refused the load, as precisely as its answers and the feature probes
    /// tell: an unknown program type or flag, trampolines refused, else the verifier's verdict.
    fn load_error(
        &self,
        source: LoadError,
        attr: &ProgLoadAttr<'_>,
        relocated: &RelocatedProgram,
    ) -> ProgramError {
        let prog_type = attr.prog_type;
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
            unsatisfied_core: describe_poisoned(relocated),
            rejected,
        };
        if checked_privileges_only {
            error.explain_denied(|| Operation::LoadProgram { prog_type })
        } else {
            error
        }
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
