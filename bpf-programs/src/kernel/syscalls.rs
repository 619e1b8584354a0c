//! How the running kernel names its syscall entry points: `__<arch>_sys_<name>` wrappers
//! taking a `struct pt_regs *` (Linux 4.17+), else plain `sys_<name>`.

use super::kallsyms;

/// The arch wrapper prefixes, one per architecture that has them.
const SYSCALL_WRAPPER_PREFIXES: [&str; 4] =
    ["__x64_sys_", "__arm64_sys_", "__s390x_sys_", "__riscv_sys_"];

/// The kernel's entry symbol for syscall `name` (`__x64_sys_<name>` and the like).
pub(crate) fn syscall_symbol(name: &str) -> String {
    let candidates = wrapper_names(name);
    let wanted: Vec<&str> = candidates.iter().map(String::as_str).collect();
    let symbols = kallsyms::addresses(&wanted).unwrap_or_default();
    candidates
        .into_iter()
        .find(|symbol| symbols.contains_key(symbol))
        .unwrap_or_else(|| format!("sys_{name}"))
}

/// Whether the kernel's syscalls have arch wrappers (`__x64_sys_bpf` and the like in
/// kallsyms), as libbpf's `LINUX_HAS_SYSCALL_WRAPPER` tells BPF_KSYSCALL.
pub(crate) fn has_syscall_wrapper() -> bool {
    let candidates = wrapper_names("bpf");
    let wanted: Vec<&str> = candidates.iter().map(String::as_str).collect();
    kallsyms::addresses(&wanted).is_ok_and(|symbols| !symbols.is_empty())
}

fn wrapper_names(syscall: &str) -> Vec<String> {
    SYSCALL_WRAPPER_PREFIXES
        .iter()
        .map(|prefix| format!("{prefix}{syscall}"))
        .collect()
}
