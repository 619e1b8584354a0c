//! Finding attach targets and extern symbols in the kernel's BTF (vmlinux, then loaded modules'
//! split BTF) by name and kind, and kernel symbol addresses from `/proc/kallsyms`. The BTF is
//! `bpf_core`'s, shared with CO-RE: vmlinux is mapped and indexed once per process.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};

use bpf_core::btf::BtfKind;
use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::btf_info;

use crate::object_btf::{kernel_btf, module_btfs};

/// A kernel function's BTF id, looked up in vmlinux and then in module BTF; the module name is
/// returned with a module match.
pub(crate) fn find_function(name: &str) -> Result<Option<(u32, Option<String>)>, String> {
    find_in_kernel(name, BtfKind::Func)
}

/// The BTF id of `name` with kind `kind` in vmlinux only.
pub(crate) fn find_in_vmlinux(name: &str, kind: BtfKind) -> Result<Option<u32>, String> {
    Ok(kernel_btf()?.find_by_name_kind(name, kind))
}

/// The BTF id of `name` with kind `kind` in vmlinux, else in the first loaded module's BTF
/// (`/sys/kernel/btf/<module>`) that has it, with that module's name.
pub(crate) fn find_in_kernel(
    name: &str,
    kind: BtfKind,
) -> Result<Option<(u32, Option<String>)>, String> {
    let base = kernel_btf()?;
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
pub(crate) fn module_btf_fd(module: &str) -> Option<OwnedFd> {
    ids(ObjectKind::Btf).filter_map(Result::ok).find_map(|id| {
        let fd = fd_by_id(ObjectKind::Btf, id, 0).ok()?;
        let info = btf_info(fd.as_fd()).ok()?;
        (info.is_kernel() && info.name == module).then_some(fd)
    })
}

/// Addresses of the symbols in `wanted`, from `/proc/kallsyms` (zero when kptr_restrict hides
/// them).
pub(crate) fn kallsyms(wanted: &[&str]) -> std::io::Result<HashMap<String, u64>> {
    let mut symbols = HashMap::new();
    if wanted.is_empty() {
        return Ok(symbols);
    }
    let text = std::fs::read_to_string("/proc/kallsyms")?;
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(address), Some(_kind), Some(name)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !wanted.contains(&name) || symbols.contains_key(name) {
            continue;
        }
        if let Ok(address) = u64::from_str_radix(address, 16) {
            symbols.insert(name.to_owned(), address);
        }
    }
    Ok(symbols)
}
