//! The running kernel's BTF: vmlinux (`/sys/kernel/btf/vmlinux`, mapped and indexed once per
//! process) and the split BTF of loaded modules, and names looked up in them by kind. The BTF
//! is `bpf_core`'s, shared with CO-RE.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use bpf_core::btf::{Btf, BtfError, BtfKind};
use bpf_sys::file_map::FileBytes;
use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::btf_info;

use super::error::KernelFactError;

/// Where the kernel exposes its BTF: `vmlinux` and one split file per module.
const KERNEL_BTF_DIR: &str = "/sys/kernel/btf";
/// The kernel's own BTF.
pub(crate) const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// The running kernel's BTF, parsed once per process; a failure is cached as well.
pub(crate) fn vmlinux() -> Result<Arc<Btf>, KernelFactError> {
    static CACHE: OnceLock<Result<Arc<Btf>, KernelFactError>> = OnceLock::new();
    CACHE
        .get_or_init(|| read_kernel_btf(Path::new(VMLINUX), None).map(Arc::new))
        .clone()
}

/// The split BTF of every loaded kernel module (`/sys/kernel/btf/<module>`) with the module's
/// name, for names vmlinux lacks; a module that cannot be read is skipped with a warning.
pub(crate) fn module_btfs(vmlinux: &Arc<Btf>) -> Vec<(String, Arc<Btf>)> {
    let Ok(entries) = std::fs::read_dir(KERNEL_BTF_DIR) else {
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
            match read_kernel_btf(&path, Some(vmlinux.clone())) {
                Ok(btf) => Some((module, Arc::new(btf))),
                Err(e) => {
                    log::warn!("skipping module BTF: {}", crate::ErrorChain(&e));
                    None
                }
            }
        })
        .collect()
}

/// Reads a raw BTF file (split on top of `base`), memory-mapped where the file allows.
fn read_kernel_btf(path: &Path, base: Option<Arc<Btf>>) -> Result<Btf, KernelFactError> {
    let bytes = FileBytes::read(path).map_err(|source| KernelFactError::read(path, source))?;
    Btf::parse_shared(Arc::new(bytes), base).map_err(|source| KernelFactError::Btf {
        path: path.to_owned(),
        source: Arc::new(source),
    })
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

/// Reads a BTF file given as a CO-RE target: raw BTF, or an ELF file's `.BTF` section.
pub(crate) fn read_target_btf_file(path: &Path) -> Result<Btf, KernelFactError> {
    let data = std::fs::read(path).map_err(|source| KernelFactError::read(path, source))?;
    Btf::parse_file_contents(data).map_err(|source| KernelFactError::Btf {
        path: path.to_owned(),
        source: Arc::new(source),
    })
}

/// A kernel function's BTF id, looked up in vmlinux and then in module BTF; the module name is
/// returned with a module match.
pub(crate) fn find_function(name: &str) -> Result<Option<(u32, Option<String>)>, KernelFactError> {
    find_in_kernel(name, BtfKind::Func)
}

/// The BTF id of `name` with kind `kind` in vmlinux only.
pub(crate) fn find_in_vmlinux(name: &str, kind: BtfKind) -> Result<Option<u32>, KernelFactError> {
    Ok(vmlinux()?.find_by_name_kind(name, kind))
}

/// The BTF id of `name` with kind `kind` in vmlinux, else in the first loaded module's BTF
/// (`/sys/kernel/btf/<module>`) that has it, with that module's name.
pub(crate) fn find_in_kernel(
    name: &str,
    kind: BtfKind,
) -> Result<Option<(u32, Option<String>)>, KernelFactError> {
    let base = vmlinux()?;
    if let Some(id) = base.find_by_name_kind(name, kind) {
        return Ok(Some((id, None)));
    }
    // vmlinux lacks the name, so a match in a module's lookup is the module's own.
    Ok(module_btfs(&base).into_iter().find_map(|(module, btf)| {
        btf.find_by_name_kind(name, kind)
            .map(|id| (id, Some(module)))
    }))
}

/// The fd of the kernel BTF object of module `module`, found among the kernel's BTF objects.
pub(crate) fn module_btf_fd(module: &str) -> Result<OwnedFd, KernelFactError> {
    ids(ObjectKind::Btf)
        .filter_map(Result::ok)
        .find_map(|id| {
            let fd = fd_by_id(ObjectKind::Btf, id, 0).ok()?;
            let info = btf_info(fd.as_fd()).ok()?;
            (info.is_kernel() && info.name == module).then_some(fd)
        })
        .ok_or_else(|| KernelFactError::NoModuleBtf {
            module: module.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_target_file_names_path_and_errno() {
        let error = read_target_btf_file(Path::new("/nonexistent/vmlinux.btf")).unwrap_err();
        assert_eq!(error.path(), Some(Path::new("/nonexistent/vmlinux.btf")));
        let errno = error.io_error().and_then(std::io::Error::raw_os_error);
        assert_eq!(errno, Some(libc::ENOENT));
    }
}
