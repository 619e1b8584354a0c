//! Shared by the BTF-targeted tracing types (tp_btf, fentry, fexit, fmod_ret, lsm, iter):
//! finding the target's kernel BTF id at load, and attaching with a tracing link.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use bpf_core::btf::{Btf, BtfKind};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::ids::{ObjectKind, fd_by_id};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create, raw_tracepoint_open};

use super::data::ProgramData;
use super::error::ProgramError;
use super::links::{FdLink, Link};
pub use super::type_errors::FEntryError;
use super::typed_program::{ProgramKind, TypedProgram};
use crate::kernel::btf as kernel_btf;
use bpf_core::obj::ProgramSection;

/// A kernel BTF id and, for module functions, the module's BTF object.
pub(crate) struct KernelTarget {
    pub(crate) btf_id: u32,
    pub(crate) module_btf: Option<OwnedFd>,
}

/// Resolves `name` of BTF kind `kind`; functions are also searched in module BTF.
pub(crate) fn resolve(
    program: &str,
    name: &str,
    kind: BtfKind,
) -> Result<Option<KernelTarget>, ProgramError> {
    let btf_error = |source| ProgramError::KernelBtf {
        program: program.to_owned(),
        source,
    };
    if kind != BtfKind::Func {
        let found = kernel_btf::find_in_vmlinux(name, kind).map_err(btf_error)?;
        return Ok(found.map(|btf_id| KernelTarget {
            btf_id,
            module_btf: None,
        }));
    }
    let Some((btf_id, module)) = kernel_btf::find_function(name).map_err(btf_error)? else {
        return Ok(None);
    };
    let module_btf = match module {
        None => None,
        Some(module) => Some(kernel_btf::module_btf_fd(&module).map_err(btf_error)?),
    };
    Ok(Some(KernelTarget { btf_id, module_btf }))
}

/// Why a function of a loaded BPF program cannot be targeted.
#[derive(Debug)]
pub(crate) enum ProgramTargetError {
    /// The target program was loaded without BTF.
    WithoutBtf,
    /// The target's BTF could not be read or parsed.
    Btf(String),
    /// The target's BTF has no such function.
    FunctionNotFound,
    /// A syscall on the target failed.
    Program(ProgramError),
}

/// Points `data` at global function `function` of the loaded program `target` (the BTF id
/// comes from the target's own BTF), for freplace and for fentry/fexit on BPF programs.
pub(crate) fn set_program_target<T: Link>(
    data: &mut ProgramData<T>,
    target: BorrowedFd<'_>,
    function: &str,
) -> Result<(), ProgramTargetError> {
    use bpf_sys::info::{btf_data, prog_info};
    let program_error = ProgramTargetError::Program;
    let info = prog_info(target)
        .map_err(|e| program_error(data.syscall_error("target program info")(e)))?;
    if info.info.btf_id == 0 {
        return Err(ProgramTargetError::WithoutBtf);
    }
    let btf_fd = fd_by_id(ObjectKind::Btf, info.info.btf_id, 0)
        .map_err(|e| program_error(data.syscall_error("target program BTF")(e)))?;
    let bytes = btf_data(btf_fd.as_fd())
        .map_err(|e| program_error(data.syscall_error("target BTF data")(e)))?;
    let btf = Btf::parse(&bytes).map_err(|e| ProgramTargetError::Btf(e.to_string()))?;
    let btf_id = btf
        .find_by_name_kind(function, BtfKind::Func)
        .ok_or(ProgramTargetError::FunctionNotFound)?;
    let target = target.try_clone_to_owned().map_err(|source| {
        ProgramTargetError::Program(ProgramError::Io {
            what: format!("program `{}`: duplicating the target fd", data.name),
            source,
        })
    })?;
    data.attach_btf_id = Some(btf_id);
    data.attach_prog_fd = Some(target);
    Ok(())
}

/// Loads `data` against kernel target `name` (BTF kind `kind`); `missing` builds the typed
/// error when the kernel has no such target.
pub(crate) fn load_for_target<T: Link>(
    data: &mut ProgramData<T>,
    name: &str,
    kind: BtfKind,
    missing: impl FnOnce() -> ProgramError,
) -> Result<(), ProgramError> {
    if data.fd.is_some() {
        return Err(ProgramError::AlreadyLoaded {
            program: data.name.clone(),
        });
    }
    let target = resolve(&data.name, name, kind)?.ok_or_else(missing)?;
    data.attach_btf_id = Some(target.btf_id);
    data.attach_btf_obj_fd = target.module_btf;
    data.load()
}

/// Attaches the loaded tracing/LSM program of `data` at the target given at load: a
/// `bpf_link` with a cookie when the kernel has tracing links, else `BPF_RAW_TRACEPOINT_OPEN`.
pub(crate) fn attach_tracing<T: Link>(
    data: &ProgramData<T>,
    attach_type: bpf_attach_type::Type,
    cookie: u64,
) -> Result<FdLink, ProgramError> {
    let prog_fd = data.fd()?.as_fd();
    let created = link_create(&LinkCreateAttr {
        prog_fd,
        target: LinkTarget::None,
        attach_type,
        flags: 0,
        kind: if cookie == 0 {
            LinkKind::Plain
        } else {
            LinkKind::Tracing {
                target_btf_id: 0,
                cookie,
            }
        },
    });
    match created {
        Ok(fd) => Ok(FdLink::new(fd)),
        Err(e) if cookie == 0 && e.errno() == Some(libc::EINVAL) => {
            raw_tracepoint_open(None, prog_fd, 0)
                .map(FdLink::new)
                .map_err(data.syscall_error("raw tracepoint open (tracing attach)"))
        }
        Err(e) => Err(data.syscall_error("tracing link create")(e)),
    }
}

/// The kernel-function tracers (fentry, fexit, fmod_ret): loaded for a function by BTF id,
/// attached with a tracing link of `ATTACH_TYPE`; their methods are below, written once.
pub trait FunctionTracerKind: ProgramKind<Link: From<FdLink>> {
    /// The attach type of the tracing link.
    const ATTACH_TYPE: bpf_attach_type::Type;
}

/// The function a tracer's section names (`fentry/<function>`, ...).
fn section_function(section: Option<&ProgramSection>) -> Option<&str> {
    match section? {
        ProgramSection::FEntry { function, .. }
        | ProgramSection::FExit { function, .. }
        | ProgramSection::FModRet { function, .. } => function.as_deref(),
        _ => None,
    }
}

/// The load of every function tracer ([`ProgramKind::load`]): for the kernel function named in
/// its section.
pub(crate) fn load_section_function<K: FunctionTracerKind>(
    program: &mut TypedProgram<K>,
) -> Result<(), ProgramError> {
    let Some(function) = section_function(program.data.section()).map(str::to_owned) else {
        return Err(FEntryError::NoTarget {
            program: program.data.name().to_owned(),
        }
        .into());
    };
    program.load_target(&function)
}

impl<K: FunctionTracerKind> TypedProgram<K> {
    /// Loads the program for kernel (or module) function `function`.
    pub fn load_target(&mut self, function: &str) -> Result<(), ProgramError> {
        let program = self.data.name().to_owned();
        load_for_target(&mut self.data, function, BtfKind::Func, || {
            FEntryError::FunctionNotFound {
                program,
                function: function.to_owned(),
            }
            .into()
        })
    }

    /// Loads the program to trace global function `function` of the loaded BPF program
    /// `target` (which must have been loaded with BTF).
    pub fn load_on_program(
        &mut self,
        target: BorrowedFd<'_>,
        function: &str,
    ) -> Result<(), ProgramError> {
        if self.data.fd.is_some() {
            return Err(ProgramError::AlreadyLoaded {
                program: self.data.name().to_owned(),
            });
        }
        let program = self.data.name().to_owned();
        match set_program_target(&mut self.data, target, function) {
            Ok(()) => self.data.load(),
            Err(ProgramTargetError::Program(e)) => Err(e),
            Err(ProgramTargetError::WithoutBtf) => {
                Err(FEntryError::TargetWithoutBtf { program }.into())
            }
            Err(ProgramTargetError::Btf(reason)) => {
                Err(FEntryError::TargetBtf { program, reason }.into())
            }
            Err(ProgramTargetError::FunctionNotFound) => Err(FEntryError::FunctionNotFound {
                program,
                function: function.to_owned(),
            }
            .into()),
        }
    }

    /// What each tracer's `attach(cookie)` does: a tracing link at the function chosen at
    /// load (each type keeps its own `attach`, as cgroup programs share theirs generically).
    pub(crate) fn attach_function(
        &mut self,
        cookie: u64,
    ) -> Result<<K::Link as Link>::Id, ProgramError> {
        let link = attach_tracing(&self.data, K::ATTACH_TYPE, cookie)?;
        Ok(self.data.links.insert(K::Link::from(link)))
    }
}
