//! The object's externs from the running kernel: `__ksym` and kfunc externs (kallsyms and
//! kernel BTF, with the module BTF objects they live in) and `__kconfig` values.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use bpf_core::obj::{ExternKind, MapKind, Object};
use bpf_core::relocation::{Bindings, KsymValue};

use crate::kernel::btf as kernel_btf;
use crate::kernel::{KernelFactError, features, kallsyms};

/// The object's externs as found in the kernel, with the BTF objects of the modules defining
/// some of them (kept open: loads refer to them by fd and through `fd_array`).
#[derive(Debug, Default)]
pub(crate) struct KernelExterns {
    pub(crate) bindings: Bindings,
    module_btfs: Vec<(String, OwnedFd)>,
}

impl KernelExterns {
    /// The `fd_array` of a load: slot 0 is never read (index 0 means vmlinux), module `i` is at
    /// `i + 1`.
    pub(crate) fn fd_array(&self) -> Vec<BorrowedFd<'_>> {
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

/// Looks up the object's externs in the running kernel; unresolved ones are left out (relocation
/// reports them, for the programs that use them).
pub(crate) fn lookup_externs(object: &Object) -> Result<KernelExterns, KernelFactError> {
    let mut externs = KernelExterns::default();
    let by_address: Vec<&str> = object
        .externs
        .iter()
        .filter(|e| matches!(e.kind, ExternKind::TypelessKsym | ExternKind::Untyped))
        .map(|e| e.name.as_str())
        .collect();
    let kallsyms = kallsyms::addresses(&by_address).unwrap_or_default();
    for ext in &object.externs {
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

/// Fills `__kconfig` externs from the running kernel, when the object has any.
pub(crate) fn fill_kconfig(object: &mut Object) {
    if !object.maps.iter().any(|m| m.kind == MapKind::Kconfig) {
        return;
    }
    let mut values = crate::kernel::kconfig::kernel_config_values();
    // libbpf's computed value that <bpf/usdt.bpf.h> reads: bpf_get_attach_cookie() works on
    // uprobes (it came with perf event links, Linux 5.15).
    if object
        .externs
        .iter()
        .any(|e| e.name == "LINUX_HAS_BPF_COOKIE")
    {
        let cookies = if features::perf_link() { "y" } else { "n" };
        values.insert("LINUX_HAS_BPF_COOKIE".to_owned(), cookies.to_owned());
    }
    // libbpf's computed value that BPF_KSYSCALL (<bpf/bpf_tracing.h>) reads: syscalls enter
    // through an arch wrapper taking a `struct pt_regs *` (`__x64_sys_*`, Linux 4.17+), which
    // libbpf detects by the presence of `__<arch>_sys_bpf`.
    if object
        .externs
        .iter()
        .any(|e| e.name == "LINUX_HAS_SYSCALL_WRAPPER")
    {
        let wrapper = if crate::kernel::syscalls::has_syscall_wrapper() {
            "y"
        } else {
            "n"
        };
        values.insert("LINUX_HAS_SYSCALL_WRAPPER".to_owned(), wrapper.to_owned());
    }
    if let Err(e) = object.fill_kconfig(&values) {
        log::warn!("kconfig externs: {e}; programs reading missing values will not load");
    }
}
