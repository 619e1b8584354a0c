//! The BTF side of opening an object: loading its BTF into the kernel (sanitised for what the
//! kernel accepts) and the target BTF for CO-RE.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use bpf_core::btf::core::CoreTarget;
use bpf_core::obj::Object;
use bpf_sys::btf::btf_load;

use crate::kernel::btf as kernel_btf;
use crate::kernel::{KernelFactError, features};

/// Which BTF CO-RE relocations are computed against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TargetBtf {
    /// The running kernel's (`/sys/kernel/btf/vmlinux`).
    #[default]
    Kernel,
    /// A BTF file (raw BTF or an ELF with a `.BTF` section).
    File(PathBuf),
}

/// The object's BTF as loaded into the kernel.
#[derive(Debug)]
pub(crate) struct LoadedBtf {
    pub(crate) fd: OwnedFd,
    /// False when FUNC had to be sanitised away: func/line info must then be left out.
    pub(crate) func_info: bool,
}

/// Loads the object's BTF; `None` (with a warning) when it has none or the kernel refuses it,
/// in which case maps and programs load without BTF.
pub(crate) fn load_object_btf(object: &Object) -> Option<LoadedBtf> {
    let btf = object.btf.as_ref()?;
    if !features::btf() {
        log::info!("the kernel does not load BTF; continuing without");
        return None;
    }
    let features = features::btf_features();
    let mut btf = btf.clone();
    match btf.needs_sanitizing(&features) {
        Ok(false) => {}
        Ok(true) => {
            if let Err(e) = btf.sanitize(&features) {
                log::warn!("sanitising the object's BTF failed ({e}); continuing without BTF");
                return None;
            }
        }
        Err(e) => {
            log::warn!("the object's BTF is inconsistent ({e}); continuing without BTF");
            return None;
        }
    }
    match btf_load(&btf.to_bytes(), 0, None) {
        Ok(fd) => Some(LoadedBtf {
            fd,
            func_info: features.func,
        }),
        Err(e) => {
            log::warn!("the kernel refused the object's BTF; continuing without: {e}");
            None
        }
    }
}

/// The BTF CO-RE relocations are computed against.
pub(crate) fn core_target(target: &TargetBtf) -> Result<CoreTarget, KernelFactError> {
    match target {
        TargetBtf::Kernel => {
            let vmlinux = kernel_btf::vmlinux()?;
            let base = vmlinux.clone();
            Ok(CoreTarget::with_lazy_modules(vmlinux, move || {
                kernel_btf::module_btfs(&base)
                    .into_iter()
                    .map(|(_, btf)| btf)
                    .collect()
            }))
        }
        TargetBtf::File(path) => kernel_btf::read_target_btf_file(path).map(CoreTarget::from_btf),
    }
}
