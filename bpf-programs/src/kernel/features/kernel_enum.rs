//! Whether the running kernel knows a map or program type, read from the enums of its BTF:
//! they are compiled with the code that handles them, so a value missing there is a type the
//! kernel lacks (used to explain an `EINVAL`, never to gate a load).

use bpf_core::btf::{BtfKind, TypeKind};

/// `Some(false)` when the kernel's `enum bpf_map_type` has no `map_type`; `None` without BTF.
pub(crate) fn kernel_knows_map_type(map_type: u32) -> Option<bool> {
    enum_has_value("bpf_map_type", map_type)
}

/// `Some(false)` when the kernel's `enum bpf_prog_type` has no `prog_type`; `None` without BTF.
pub(crate) fn kernel_knows_prog_type(prog_type: u32) -> Option<bool> {
    enum_has_value("bpf_prog_type", prog_type)
}

/// `Some(false)` when the kernel's `enum bpf_attach_type` has no `attach_type`; `None` without BTF.
pub(crate) fn kernel_knows_attach_type(attach_type: u32) -> Option<bool> {
    enum_has_value("bpf_attach_type", attach_type)
}

fn enum_has_value(enum_name: &str, value: u32) -> Option<bool> {
    let btf = crate::kernel::btf::vmlinux().ok()?;
    let id = btf.find_by_name_kind(enum_name, BtfKind::Enum)?;
    let TypeKind::Enum(values) = btf.type_by_id(id).ok()?.kind else {
        return None;
    };
    for entry in values.values() {
        let entry = entry.ok()?;
        // `__MAX_BPF_*_TYPE` counts the types: its value is the first one the kernel lacks.
        if entry.value == u64::from(value) && !entry.name.starts_with("__MAX") {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_sys::generated::{bpf_map_type, bpf_prog_type};

    #[test]
    fn running_kernel_knows_hash_maps_and_socket_filters_but_not_type_9999() {
        if crate::kernel::btf::vmlinux().is_err() {
            println!("SKIPPED kernel::features::kernel_enum::tests: no /sys/kernel/btf/vmlinux");
            return;
        }
        assert_eq!(
            kernel_knows_map_type(bpf_map_type::BPF_MAP_TYPE_HASH),
            Some(true)
        );
        assert_eq!(
            kernel_knows_prog_type(bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER),
            Some(true)
        );
        assert_eq!(kernel_knows_map_type(9999), Some(false));
        assert_eq!(kernel_knows_prog_type(9999), Some(false));
    }
}
