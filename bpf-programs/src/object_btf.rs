//! The BTF side of opening an object: loading its BTF into the kernel (sanitised for what the
//! kernel accepts) and the target BTF for CO-RE.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bpf_core::btf::core::CoreTarget;
use bpf_core::btf::{Btf, BtfError};
use bpf_core::obj::Object;
use bpf_sys::btf::btf_load;
use bpf_sys::file_map::FileBytes;

use crate::features;

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

/// The running kernel's BTF, parsed once per process.
pub(crate) fn kernel_btf() -> Result<Arc<Btf>, String> {
    static CACHE: OnceLock<Result<Arc<Btf>, String>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            read_btf_file("/sys/kernel/btf/vmlinux")
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
}

/// The split BTF of every loaded kernel module (`/sys/kernel/btf/<module>`) with the module's
/// name, for names vmlinux lacks; a module that cannot be read is skipped with a warning.
pub(crate) fn module_btfs(vmlinux: &Arc<Btf>) -> Vec<(String, Arc<Btf>)> {
    let Ok(entries) = std::fs::read_dir("/sys/kernel/btf") else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.file_name().is_some_and(|name| name != "vmlinux"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let module = path.file_name()?.to_string_lossy().into_owned();
            match read_split_btf_file(&path, vmlinux.clone()) {
                Ok(btf) => Some((module, Arc::new(btf))),
                Err(e) => {
                    log::warn!("skipping module BTF {}: {e}", path.display());
                    None
                }
            }
        })
        .collect()
}

/// Reads a raw BTF file (e.g. `/sys/kernel/btf/vmlinux`), memory-mapping it where the file
/// allows, so a large blob is indexed without being copied.
pub fn read_btf_file(path: impl AsRef<Path>) -> Result<Btf, BtfError> {
    Btf::parse_shared(Arc::new(read_file(path.as_ref())?), None)
}

/// Reads a kernel module's split BTF file (`/sys/kernel/btf/<module>`) on top of `base`.
pub fn read_split_btf_file(path: impl AsRef<Path>, base: Arc<Btf>) -> Result<Btf, BtfError> {
    Btf::parse_shared(Arc::new(read_file(path.as_ref())?), Some(base))
}

fn read_file(path: &Path) -> Result<FileBytes, BtfError> {
    FileBytes::read(path).map_err(|e| BtfError::Io {
        path: path.display().to_string(),
        error: e.to_string(),
    })
}

/// Reads a target BTF file: raw BTF, or an ELF file's `.BTF` section.
fn btf_from_file(path: &Path) -> Result<Btf, String> {
    let data = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Btf::parse_file_contents(data)
        .map_err(|e| format!("{}: {}", path.display(), crate::ErrorChain(&e)))
}

/// The BTF CO-RE relocations are computed against.
pub(crate) fn core_target(target: &TargetBtf) -> Result<CoreTarget, String> {
    match target {
        TargetBtf::Kernel => {
            let vmlinux = kernel_btf()?;
            let base = vmlinux.clone();
            Ok(CoreTarget::with_lazy_modules(vmlinux, move || {
                module_btfs(&base).into_iter().map(|(_, btf)| btf).collect()
            }))
        }
        TargetBtf::File(path) => btf_from_file(path).map(CoreTarget::from_btf),
    }
}
