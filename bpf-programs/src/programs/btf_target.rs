//! Shared by the BTF-targeted tracing types (tp_btf, fentry, fexit, fmod_ret, lsm, iter):
//! finding the target's kernel BTF id at load, and attaching with a tracing link.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use bpf_core::btf::{Btf, BtfKind};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::ids::{ObjectKind, fd_by_id};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create, raw_tracepoint_open};

use super::links::{FdLink, Link};
use super::{ProgramData, ProgramError};
use crate::kernel::btf as kernel_btf;

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

/// Attaches a loaded tracing/LSM program at the target given at load: a `bpf_link` with a
/// cookie when the kernel has tracing links, else `BPF_RAW_TRACEPOINT_OPEN`.
pub(crate) fn attach_tracing(
    prog_fd: BorrowedFd<'_>,
    attach_type: bpf_attach_type::Type,
    cookie: u64,
) -> Result<FdLink, ProgramError> {
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
                .map_err(ProgramError::syscall(
                    "raw tracepoint open (tracing attach)",
                ))
        }
        Err(e) => Err(ProgramError::syscall("tracing link create")(e)),
    }
}

/// Defines a program type attached to a kernel function by BTF id (fentry, fexit, fmod_ret).
macro_rules! define_function_tracer {
    ($(#[$doc:meta])* $ty:ident, $link:ident, $link_id:ident, $section:ident, $attach_type:ident) => {
        $crate::programs::links::define_link_wrapper!(
            #[doc = concat!("A [`", stringify!($ty), "`] attachment.")]
            $link,
            $link_id,
            $crate::programs::FdLink
        );

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $ty {
            pub(crate) data: $crate::programs::ProgramData<$link>,
        }

        impl $ty {
            pub(crate) fn new(data: $crate::programs::ProgramData<$link>) -> Self {
                $ty { data }
            }

            /// Loads the program for the kernel function named in its section.
            pub fn load(&mut self) -> Result<(), $crate::programs::ProgramError> {
                let function = match self.data.section() {
                    Some($crate::programs::ProgramSection::$section {
                        function: Some(function),
                        ..
                    }) => function.clone(),
                    _ => {
                        return Err($crate::programs::FEntryError::NoTarget {
                            program: self.data.name().to_owned(),
                        }
                        .into());
                    }
                };
                self.load_target(&function)
            }

            /// Loads the program for kernel (or module) function `function`.
            pub fn load_target(&mut self, function: &str) -> Result<(), $crate::programs::ProgramError> {
                let program = self.data.name().to_owned();
                $crate::programs::btf_target::load_for_target(
                    &mut self.data,
                    function,
                    bpf_core::btf::BtfKind::Func,
                    || {
                        $crate::programs::FEntryError::FunctionNotFound {
                            program,
                            function: function.to_owned(),
                        }
                        .into()
                    },
                )
            }

            /// Loads the program to trace global function `function` of the loaded BPF
            /// program `target` (which must have been loaded with BTF).
            pub fn load_on_program(
                &mut self,
                target: std::os::fd::BorrowedFd<'_>,
                function: &str,
            ) -> Result<(), $crate::programs::ProgramError> {
                use $crate::programs::btf_target::ProgramTargetError;
                if self.data.fd.is_some() {
                    return Err($crate::programs::ProgramError::AlreadyLoaded {
                        program: self.data.name().to_owned(),
                    });
                }
                let program = self.data.name().to_owned();
                match $crate::programs::btf_target::set_program_target(&mut self.data, target, function) {
                    Ok(()) => self.data.load(),
                    Err(ProgramTargetError::Program(e)) => Err(e),
                    Err(ProgramTargetError::WithoutBtf) => Err($crate::programs::FEntryError::TargetWithoutBtf { program }.into()),
                    Err(ProgramTargetError::Btf(reason)) => Err($crate::programs::FEntryError::TargetBtf { program, reason }.into()),
                    Err(ProgramTargetError::FunctionNotFound) => Err($crate::programs::FEntryError::FunctionNotFound {
                        program,
                        function: function.to_owned(),
                    }
                    .into()),
                }
            }

            /// Attaches at the function chosen at load; `cookie` is what
            /// `bpf_get_attach_cookie()` returns (0: none).
            pub fn attach(&mut self, cookie: u64) -> Result<$link_id, $crate::programs::ProgramError> {
                let fd = self.data.fd()?;
                let link = $crate::programs::btf_target::attach_tracing(
                    std::os::fd::AsFd::as_fd(fd),
                    bpf_sys::generated::bpf_attach_type::$attach_type,
                    cookie,
                )?;
                Ok(self.data.links.insert($link::new(link)))
            }
        }

        impl $crate::programs::DefaultLoad for $ty {
            fn load_default(&mut self) -> Result<(), $crate::programs::ProgramError> {
                self.load()
            }
        }

        $crate::programs::impl_program_common!($ty, $link);
    };
}
pub(crate) use define_function_tracer;
