//! Creating maps: from an object's definition (BTF, inner map templates, initial contents,
//! freezing) or from a bare definition in user space.

use std::os::fd::BorrowedFd;

use bpf_core::obj::{self, MapDef};
use bpf_sys::generated::bpf_map_type;
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::util::possible_cpu_count;

use super::error::MapError;
use super::flags::{BPF_F_NUMA_NODE, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};
use super::map_data::{MapData, syscall};
use crate::kernel::permission::Operation;

impl MapData {
    /// Creates the map an object declares, named `name` in the kernel.
    ///
    /// Global data maps get their initial contents written; `.rodata` and `.kconfig` are then
    /// frozen, so set constants on the object before creating its maps. When the kernel refuses
    /// the BTF type ids of key and value, the map is created again without them.
    pub fn create(
        map: &obj::Map,
        name: &str,
        btf_fd: Option<BorrowedFd<'_>>,
    ) -> Result<MapData, MapError> {
        let def = effective_def(&map.def, name)?;
        if is_map_in_map(def.map_type) && map.def.inner.is_none() {
            return Err(MapError::InvalidDefinition {
                name: name.to_owned(),
                reason: "a map of maps needs its inner map's shape: declare its values with \
                         `__array(values, struct inner_map)`"
                    .to_owned(),
            });
        }
        let inner = match &map.def.inner {
            Some(inner_def) => {
                let inner_def = effective_def(inner_def, name)?;
                // The template keeps its BTF value type, as libbpf's does: the kernel compares
                // the BTF records (spin locks, timers, kptrs, list heads) of the template and of
                // every map put in a slot, so a template without BTF refuses all of them
                // (EINVAL on the slot update) when the value holds such special fields.
                let inner_uses_btf = btf_fd.is_some()
                    && (inner_def.key_type_id.is_some() || inner_def.value_type_id.is_some());
                match create_fd(&inner_def, name, btf_fd) {
                    Ok(fd) => Some(fd),
                    Err(e) if inner_uses_btf && e.errno() == Some(libc::EINVAL) => {
                        log::debug!(
                            "map `{name}`: kernel refused the inner map's BTF ({}), creating it without",
                            crate::ErrorChain(&e)
                        );
                        Some(create_fd(&inner_def, name, None)?)
                    }
                    Err(e) => return Err(e),
                }
            }
            None => None,
        };
        let inner_fd = inner.as_ref().map(|i| i.fd());
        // The kernel refuses BTF key/value types on the outer map of a map-in-map (ENOTSUPP,
        // `map_check_no_btf`); libbpf leaves them out. Failing here would send the caller's
        // fallback to recreate everything without BTF, the inner template included.
        let btf_fd = if inner.is_some() || is_map_in_map(def.map_type) {
            None
        } else {
            btf_fd
        };
        let uses_btf =
            btf_fd.is_some() && (def.key_type_id.is_some() || def.value_type_id.is_some());
        let fd = match create_fd_with_inner(&def, name, btf_fd, inner_fd) {
            Ok(fd) => fd,
            Err(e) if uses_btf && e.errno() == Some(libc::EINVAL) => {
                log::debug!(
                    "map `{name}`: kernel refused its BTF ({}), creating it without",
                    crate::ErrorChain(&e)
                );
                create_fd_with_inner(&def, name, None, inner_fd)?
            }
            Err(e) => return Err(e),
        };
        let mut data = MapData {
            fd,
            name: name.to_owned(),
            def,
            variables: map.variables.clone(),
            pinned: None,
            arena: None,
        };
        data.map_arena()?;
        if map.has_initial_data() && !map.data.is_empty() {
            data.write_initial_value(&map.data)?;
        }
        if map.frozen() {
            data.freeze()?;
        }
        Ok(data)
    }

    /// Creates a map from a bare definition (user-space maps: no BTF, no initial contents).
    pub fn create_raw(def: &MapDef, name: &str) -> Result<MapData, MapError> {
        let def = effective_def(def, name)?;
        let inner = match &def.inner {
            Some(inner_def) => Some(create_fd(&effective_def(inner_def, name)?, name, None)?),
            None => None,
        };
        let fd = create_fd_with_inner(&def, name, None, inner.as_ref().map(|i| i.fd()))?;
        let mut data = MapData {
            fd,
            name: name.to_owned(),
            def,
            variables: Vec::new(),
            pinned: None,
            arena: None,
        };
        data.map_arena()?;
        Ok(data)
    }

    /// Creates a map whose inner-map template is an existing map (map-in-map types).
    pub fn create_with_inner(
        def: &MapDef,
        name: &str,
        inner: BorrowedFd<'_>,
    ) -> Result<MapData, MapError> {
        let def = effective_def(def, name)?;
        let fd = create_fd_with_inner(&def, name, None, Some(inner))?;
        Ok(MapData {
            fd,
            name: name.to_owned(),
            def,
            variables: Vec::new(),
            pinned: None,
            arena: None,
        })
    }

    fn write_initial_value(&self, data: &[u8]) -> Result<(), MapError> {
        if data.len() != self.def.value_size as usize {
            return Err(MapError::InvalidDefinition {
                name: self.name.clone(),
                reason: format!(
                    "initial data is {} bytes, the value is {}",
                    data.len(),
                    self.def.value_size
                ),
            });
        }
        self.fd
            .update(&0u32.to_ne_bytes(), data, 0)
            .map_err(|e| syscall(&self.name, e))
    }
}

/// The definition as the kernel wants it: defaults libbpf fills in, size rules checked.
pub(super) fn effective_def(def: &MapDef, name: &str) -> Result<MapDef, MapError> {
    let mut def = def.clone();
    let invalid = |reason: String| MapError::InvalidDefinition {
        name: name.to_owned(),
        reason,
    };
    match def.map_type {
        bpf_map_type::BPF_MAP_TYPE_PERF_EVENT_ARRAY => {
            if def.key_size == 0 {
                def.key_size = 4;
            }
            if def.value_size == 0 {
                def.value_size = 4;
            }
            let cpus = possible_cpu_count().map_err(|source| MapError::Io {
                name: name.to_owned(),
                what: "reading the possible CPUs",
                source,
            })?;
            let cpus = u32::try_from(cpus).unwrap_or(u32::MAX);
            if def.max_entries == 0 || def.max_entries > cpus {
                def.max_entries = cpus;
            }
        }
        bpf_map_type::BPF_MAP_TYPE_RINGBUF | bpf_map_type::BPF_MAP_TYPE_USER_RINGBUF => {
            let page = bpf_sys::util::page_size() as u32;
            // Size must be a power-of-two multiple of the page size.
            let size = def.max_entries.max(page);
            def.max_entries = size
                .checked_next_power_of_two()
                .ok_or_else(|| invalid(format!("ring buffer size {size} is too large")))?;
        }
        bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS | bpf_map_type::BPF_MAP_TYPE_HASH_OF_MAPS => {
            if def.value_size == 0 {
                def.value_size = 4;
            }
            if def.value_size != 4 {
                return Err(invalid(format!(
                    "map-in-map values are 4-byte fds, declared {}",
                    def.value_size
                )));
            }
        }
        _ => {}
    }
    if def.numa_node.is_some() {
        def.map_flags |= BPF_F_NUMA_NODE;
    }
    if def.map_flags & BPF_F_RDONLY_PROG != 0 && def.map_flags & BPF_F_WRONLY_PROG != 0 {
        return Err(invalid(
            "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together".into(),
        ));
    }
    Ok(def)
}

fn create_fd(def: &MapDef, name: &str, btf_fd: Option<BorrowedFd<'_>>) -> Result<MapFd, MapError> {
    create_fd_with_inner(def, name, btf_fd, None)
}

fn create_fd_with_inner(
    def: &MapDef,
    name: &str,
    btf_fd: Option<BorrowedFd<'_>>,
    inner: Option<BorrowedFd<'_>>,
) -> Result<MapFd, MapError> {
    let kernel_name = kernel_name(name);
    let with_btf = btf_fd.filter(|_| {
        def.key_type_id.is_some()
            || def.value_type_id.is_some()
            || def.btf_vmlinux_value_type_id.is_some()
    });
    let attr = MapCreateAttr {
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        inner_map_fd: inner,
        numa_node: def.numa_node.unwrap_or(0),
        name: &kernel_name,
        btf_fd: with_btf,
        btf_key_type_id: with_btf.and(def.key_type_id).unwrap_or(0),
        btf_value_type_id: with_btf.and(def.value_type_id).unwrap_or(0),
        btf_vmlinux_value_type_id: def.btf_vmlinux_value_type_id.unwrap_or(0),
        map_extra: def.map_extra,
        ..MapCreateAttr::default()
    };
    MapFd::create(&attr).map_err(|e| {
        if e.errno() == Some(libc::EINVAL)
            && crate::features::kernel_knows_map_type(def.map_type) == Some(false)
        {
            return MapError::MapTypeNotSupported {
                name: name.to_owned(),
                map_type: def.map_type,
            };
        }
        // Objects often leave sizes to user space (stack traces, per-CPU hashes); say so.
        if def.max_entries == 0 && e.errno() == Some(libc::EINVAL) && !sized_by_kernel(def.map_type)
        {
            MapError::DefinitionRefused {
                name: name.to_owned(),
                reason: "max_entries is 0; set it with BpfLoader::set_max_entries",
                source: e,
            }
        } else if def.value_size == 0
            && e.errno() == Some(libc::EINVAL)
            && def.map_type == bpf_sys::generated::bpf_map_type::BPF_MAP_TYPE_STACK_TRACE
        {
            MapError::DefinitionRefused {
                name: name.to_owned(),
                reason: "value_size is 0; set it with BpfLoader::set_value_size (stack depth * 8)",
                source: e,
            }
        } else if e.errno() == Some(libc::E2BIG) {
            MapError::TooBig {
                name: name.to_owned(),
                max_entries: def.max_entries,
                key_size: def.key_size,
                value_size: def.value_size,
                source: e,
            }
        } else if crate::kernel::permission::is_permission_errno(e.errno()) {
            MapError::PermissionDenied {
                name: name.to_owned(),
                hint: Box::new(crate::kernel::permission::hint(Operation::CreateMap {
                    map_type: def.map_type,
                })),
                source: e,
            }
        } else {
            syscall(name, e)
        }
    })
}

fn is_map_in_map(map_type: u32) -> bool {
    use bpf_sys::generated::bpf_map_type::{BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS};
    map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS || map_type == BPF_MAP_TYPE_HASH_OF_MAPS
}

/// Storage maps must be created with max_entries 0: their size follows their owners.
fn sized_by_kernel(map_type: u32) -> bool {
    use bpf_sys::generated::bpf_map_type::*;
    matches!(
        map_type,
        BPF_MAP_TYPE_SK_STORAGE
            | BPF_MAP_TYPE_INODE_STORAGE
            | BPF_MAP_TYPE_TASK_STORAGE
            | BPF_MAP_TYPE_CGRP_STORAGE
            | BPF_MAP_TYPE_CGROUP_STORAGE
            | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
    )
}

/// The kernel accepts only `[A-Za-z0-9_.]` in object names; anything else becomes `_`.
fn kernel_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(15)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_are_sanitised() {
        assert_eq!(kernel_name("a-b/c.d"), "a_b_c.d");
        assert_eq!(kernel_name("abcdefghijklmnopqrstu"), "abcdefghijklmno");
    }

    #[test]
    fn ringbuf_size_rounds_to_power_of_two_pages() {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_RINGBUF,
            max_entries: 5000,
            ..MapDef::default()
        };
        let page = bpf_sys::util::page_size() as u32;
        let got = effective_def(&def, "rb").map(|d| d.max_entries).ok();
        assert_eq!(got, Some(5000u32.max(page).next_power_of_two()));
    }

    #[test]
    fn map_in_map_value_size_is_checked() {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS,
            value_size: 8,
            ..MapDef::default()
        };
        assert!(matches!(
            effective_def(&def, "m"),
            Err(MapError::InvalidDefinition { .. })
        ));
    }
}
