//! Local storage maps from user space, keyed by fds of their owners (socket, inode, cgroup).
//! The kernel requires BTF for them, so the test loads a two-type BTF blob.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use bpf_core::obj::{Map as ObjMap, MapDef, MapKind};
use bpf_programs::maps::flags::{BPF_ANY, BPF_F_NO_PREALLOC};
use bpf_programs::maps::{CgrpStorage, InodeStorage, Map, MapData, MapError, SkStorage};
use bpf_sys::generated::bpf_map_type;

/// BTF with `int` (id 1, 4 bytes) and `long` (id 2, 8 bytes).
fn int_long_btf() -> OwnedFd {
    let strings = b"\0int\0long\0";
    let mut types = Vec::new();
    for (name_off, size, bits) in [(1u32, 4u32, 32u32), (5, 8, 64)] {
        types.extend_from_slice(&name_off.to_ne_bytes());
        types.extend_from_slice(&(1u32 << 24).to_ne_bytes()); // BTF_KIND_INT
        types.extend_from_slice(&size.to_ne_bytes());
        types.extend_from_slice(&((1u32 << 24) | bits).to_ne_bytes()); // signed
    }
    let mut blob = Vec::new();
    blob.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    blob.extend_from_slice(&[1, 0]);
    for field in [
        24u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        blob.extend_from_slice(&field.to_ne_bytes());
    }
    blob.extend_from_slice(&types);
    blob.extend_from_slice(strings);
    bpf_sys::btf::btf_load(&blob, 0, None).unwrap()
}

fn storage_map(map_type: u32, name: &str, btf: &OwnedFd) -> Result<Map, MapError> {
    let map = ObjMap {
        name: name.into(),
        kind: MapKind::Btf,
        def: MapDef {
            map_type,
            key_size: 4,
            value_size: 8,
            max_entries: 0,
            map_flags: BPF_F_NO_PREALLOC,
            key_type_id: Some(1),
            value_type_id: Some(2),
            ..MapDef::default()
        },
        section_index: None,
        section_offset: 0,
        data: Vec::new(),
        variables: Vec::new(),
        initial_slots: Vec::new(),
        struct_ops: None,
    };
    MapData::create(&map, name, Some(btf.as_fd())).map(Map::from)
}

#[test]
fn socket_storage_by_socket_fd() {
    let btf = int_long_btf();
    let map = storage_map(bpf_map_type::BPF_MAP_TYPE_SK_STORAGE, "sk_store", &btf).unwrap();
    assert!(matches!(map, Map::SkStorage(_)));
    let mut storage = SkStorage::<_, i64>::try_from(map).unwrap();
    let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(storage.get(a.as_fd(), 0).unwrap(), None);
    storage.insert(a.as_fd(), -5i64, BPF_ANY).unwrap();
    storage.insert(b.as_fd(), 9i64, BPF_ANY).unwrap();
    assert_eq!(storage.get(a.as_fd(), 0).unwrap(), Some(-5));
    assert_eq!(storage.get(b.as_fd(), 0).unwrap(), Some(9));
    storage.remove(a.as_fd()).unwrap();
    assert_eq!(storage.get(a.as_fd(), 0).unwrap(), None);
    // A non-socket fd is refused by the kernel.
    let file = File::open("/proc/self/stat").unwrap();
    assert!(storage.insert(file.as_fd(), 1i64, BPF_ANY).is_err());
}

#[test]
fn cgroup_storage_by_cgroup_fd() {
    if !integration_tests::kernel_enum_has("bpf_map_type", "BPF_MAP_TYPE_CGRP_STORAGE") {
        println!(
            "SKIPPED map_storage::cgroup_storage_by_cgroup_fd: the kernel's enum bpf_map_type has no BPF_MAP_TYPE_CGRP_STORAGE"
        );
        return;
    }
    let btf = int_long_btf();
    let map = storage_map(bpf_map_type::BPF_MAP_TYPE_CGRP_STORAGE, "cg_store", &btf).unwrap();
    let mut storage = CgrpStorage::<_, i64>::try_from(map).unwrap();
    let cgroup = File::open("/sys/fs/cgroup/unified").unwrap();
    storage.insert(cgroup.as_fd(), 77i64, BPF_ANY).unwrap();
    assert_eq!(storage.get(cgroup.as_fd(), 0).unwrap(), Some(77));
    storage.remove(cgroup.as_fd()).unwrap();
    assert_eq!(storage.get(cgroup.as_fd(), 0).unwrap(), None);
}

#[test]
fn inode_storage_by_file_fd() {
    if !integration_tests::kernel_enum_has("bpf_map_type", "BPF_MAP_TYPE_INODE_STORAGE") {
        println!(
            "SKIPPED map_storage::inode_storage_by_file_fd: the kernel's enum bpf_map_type has no BPF_MAP_TYPE_INODE_STORAGE"
        );
        return;
    }
    let btf = int_long_btf();
    let map = storage_map(bpf_map_type::BPF_MAP_TYPE_INODE_STORAGE, "ino_store", &btf).unwrap();
    let mut storage = InodeStorage::<_, i64>::try_from(map).unwrap();
    let file = File::open("/proc/self/exe").unwrap();
    storage.insert(file.as_fd(), 3i64, BPF_ANY).unwrap();
    assert_eq!(storage.get(file.as_fd(), 0).unwrap(), Some(3));
}

#[test]
fn storage_value_size_is_checked() {
    let btf = int_long_btf();
    let map = storage_map(bpf_map_type::BPF_MAP_TYPE_SK_STORAGE, "sk_store2", &btf).unwrap();
    let err = SkStorage::<_, u32>::try_from(&map).unwrap_err();
    assert!(matches!(
        err,
        MapError::ValueSize {
            expected: 8,
            actual: 4,
            ..
        }
    ));
}

#[test]
fn map_type_the_kernel_lacks_is_named_as_unsupported() {
    let btf = int_long_btf();
    let err = storage_map(9999, "future_map", &btf).unwrap_err();
    assert!(
        matches!(&err, MapError::MapTypeNotSupported { name, map_type: 9999 } if name == "future_map"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not supported by this kernel"),
        "{err}"
    );
}
