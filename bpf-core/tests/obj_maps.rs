//! Map definitions: legacy `maps` (bpf_map_def and iproute2 bpf_elf_map) and BTF `.maps`.

use bpf_core::obj::{MapKind, Object, Pinning};
use bpf_sys::generated::bpf_map_type;

const MAPS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_maps.bpf.o");
const IPROUTE2: &[u8] = include_bytes!("../../tests/bpf/obj/parse_iproute2.bpf.o");

#[test]
fn legacy_bpf_map_def() {
    let object = Object::parse(MAPS).unwrap();
    let hash = object.map("legacy_hash").unwrap();
    assert_eq!(hash.kind, MapKind::Legacy);
    assert_eq!(
        (
            hash.def.map_type,
            hash.def.key_size,
            hash.def.value_size,
            hash.def.max_entries,
            hash.def.map_flags
        ),
        (bpf_map_type::BPF_MAP_TYPE_HASH, 4, 8, 64, 1)
    );
    assert_eq!(hash.def.pinning, Pinning::None);
    let array = object.map("legacy_array").unwrap();
    assert_eq!(
        (
            array.def.map_type,
            array.def.value_size,
            array.def.max_entries,
            array.section_offset
        ),
        (bpf_map_type::BPF_MAP_TYPE_ARRAY, 16, 4, 20)
    );
}

#[test]
fn iproute2_bpf_elf_map() {
    let object = Object::parse(IPROUTE2).unwrap();
    let counters = object.map("counters").unwrap();
    assert_eq!(counters.kind, MapKind::Legacy);
    assert_eq!(
        (
            counters.def.map_type,
            counters.def.key_size,
            counters.def.value_size,
            counters.def.max_entries
        ),
        (bpf_map_type::BPF_MAP_TYPE_ARRAY, 4, 8, 2)
    );
    assert_eq!(counters.def.legacy_id, Some(7));
    assert_eq!(counters.def.pinning, Pinning::ByName);
    let private = object.map("private_map").unwrap();
    assert_eq!(private.def.pinning, Pinning::None);
    assert_eq!(
        (
            private.def.key_size,
            private.def.value_size,
            private.section_offset
        ),
        (8, 4, 28)
    );
    assert_eq!(
        object.programs[0].section,
        bpf_core::obj::ProgramSection::SchedClassifier
    );
}
