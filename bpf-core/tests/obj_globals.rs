//! Global data sections as maps, and setting variables before load.

use bpf_core::obj::{DataKind, MapKind, Object, SetGlobalError, Variable};
use bpf_sys::generated::bpf_map_type;

const GLOBALS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_globals.bpf.o");

#[test]
fn data_sections_become_single_entry_arrays() {
    let object = Object::parse(GLOBALS).unwrap();
    let names: Vec<&str> = object.maps.iter().map(|m| m.name.as_str()).collect();
    for expected in [".rodata", ".data", ".bss", ".data.custom", ".rodata.config"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for map in &object.maps {
        assert_eq!(map.def.map_type, bpf_map_type::BPF_MAP_TYPE_ARRAY);
        assert_eq!((map.def.key_size, map.def.max_entries), (4, 1));
        assert_eq!(map.def.value_size as usize, map.data.len());
        assert!(map.has_initial_data());
        assert_ne!(map.def.map_flags & (1 << 10), 0, "{} is mmapable", map.name);
    }
    let rodata = object.map(".rodata").unwrap();
    assert_eq!(rodata.kind, MapKind::Data(DataKind::Rodata));
    assert!(rodata.frozen());
    assert_ne!(rodata.def.map_flags & (1 << 7), 0, "read-only for programs");
    let data = object.map(".data").unwrap();
    assert!(!data.frozen());
    assert_eq!(data.def.map_flags & (1 << 7), 0);
    assert_eq!(
        object.map(".rodata.config").unwrap().kind,
        MapKind::Data(DataKind::Rodata)
    );
    assert_eq!(
        object.map(".data.custom").unwrap().kind,
        MapKind::Data(DataKind::Data)
    );
    assert_eq!(
        object.map(".bss").unwrap().kind,
        MapKind::Data(DataKind::Bss)
    );
}

#[test]
fn initial_contents_and_variables() {
    let object = Object::parse(GLOBALS).unwrap();
    let rodata = object.map(".rodata").unwrap();
    assert_eq!(
        rodata.variables,
        [
            Variable {
                name: "threshold".into(),
                offset: 0,
                size: 4
            },
            Variable {
                name: "magic".into(),
                offset: 8,
                size: 8
            }
        ]
    );
    assert_eq!(object.global("threshold"), Some(&10u32.to_le_bytes()[..]));
    assert_eq!(
        object.global("magic"),
        Some(&0x1122334455667788u64.to_le_bytes()[..])
    );
    assert_eq!(object.global("counter"), Some(&7i32.to_le_bytes()[..]));
    assert_eq!(
        object.global("static_counter"),
        Some(&3i32.to_le_bytes()[..])
    );
    assert_eq!(object.global("custom_data"), Some(&42i32.to_le_bytes()[..]));
    assert_eq!(object.global("name_prefix"), Some(&b"abc\0\0\0\0\0"[..]));
    let bss = object.map(".bss").unwrap();
    assert!(bss.data.iter().all(|&b| b == 0));
    assert_eq!(
        bss.variable("big_table"),
        Some(&Variable {
            name: "big_table".into(),
            offset: 8,
            size: 64
        })
    );
}

#[test]
fn set_global_checks_name_and_size() {
    let mut object = Object::parse(GLOBALS).unwrap();
    object
        .set_global("threshold", &99u32.to_le_bytes())
        .unwrap();
    assert_eq!(
        &object.map(".rodata").unwrap().data[..4],
        &99u32.to_le_bytes()
    );
    // Neighbouring bytes are untouched.
    assert_eq!(
        &object.map(".rodata").unwrap().data[8..],
        &0x1122334455667788u64.to_le_bytes()
    );
    assert_eq!(
        object.set_global("threshold", &[1, 2]),
        Err(SetGlobalError::SizeMismatch {
            name: "threshold".into(),
            section: ".rodata".into(),
            expected: 4,
            actual: 2
        })
    );
    assert_eq!(
        object.set_global("nope", &[0]),
        Err(SetGlobalError::NotFound {
            name: "nope".into()
        })
    );
    object.set_global("hits", &5u64.to_le_bytes()).unwrap();
    assert_eq!(object.global("hits"), Some(&5u64.to_le_bytes()[..]));
    object
        .set_global_in(".rodata.config", "name_prefix", b"xyz\0\0\0\0\0")
        .unwrap();
    assert_eq!(object.global("name_prefix"), Some(&b"xyz\0\0\0\0\0"[..]));
    assert!(object.set_global_in(".data", "threshold", &[0; 4]).is_err());
}
