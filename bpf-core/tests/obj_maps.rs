//! Map definitions: legacy `maps` (bpf_map_def and iproute2 bpf_elf_map) and BTF `.maps`.

use bpf_core::obj::{MapKind, MapSlot, Object, Pinning, SlotTarget};
use bpf_core::relocation::{Bindings, MapReference};
use bpf_sys::generated::BPF_PSEUDO_MAP_FD;
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

fn btf_map<'a>(object: &'a Object, name: &str) -> &'a bpf_core::obj::Map {
    let map = object.map(name).unwrap_or_else(|| panic!("no map {name}"));
    assert_eq!(map.kind, MapKind::Btf, "{name}");
    map
}

#[test]
fn btf_defined_maps() {
    let object = Object::parse(MAPS).unwrap();
    let hash = btf_map(&object, "btf_hash");
    assert_eq!(
        (
            hash.def.map_type,
            hash.def.key_size,
            hash.def.value_size,
            hash.def.max_entries,
            hash.def.map_flags
        ),
        (bpf_map_type::BPF_MAP_TYPE_HASH, 4, 24, 1024, 1)
    );
    assert_eq!(hash.def.pinning, Pinning::ByName);
    assert!(hash.def.key_type_id.is_some() && hash.def.value_type_id.is_some());
    let sized = btf_map(&object, "sized_array");
    assert_eq!(
        (
            sized.def.map_type,
            sized.def.key_size,
            sized.def.value_size,
            sized.def.max_entries
        ),
        (bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 2)
    );
    assert_eq!(sized.def.numa_node, Some(0));
    assert_eq!(sized.def.key_type_id, None);
    let events = btf_map(&object, "events");
    assert_eq!(
        (events.def.map_type, events.def.max_entries),
        (bpf_map_type::BPF_MAP_TYPE_RINGBUF, 4096)
    );
    let bloom = btf_map(&object, "bloom");
    assert_eq!(
        (
            bloom.def.map_type,
            bloom.def.value_size,
            bloom.def.map_extra
        ),
        (bpf_map_type::BPF_MAP_TYPE_BLOOM_FILTER, 8, 3)
    );
    // Legacy and BTF maps live side by side.
    assert_eq!(
        object
            .maps
            .iter()
            .filter(|m| m.kind == MapKind::Legacy)
            .count(),
        2
    );
    assert_eq!(
        object
            .maps
            .iter()
            .filter(|m| m.kind == MapKind::Btf)
            .count(),
        8
    );
}

#[test]
fn map_in_map_template_and_initial_slots() {
    let object = Object::parse(MAPS).unwrap();
    let outer = btf_map(&object, "outer");
    assert_eq!(outer.def.map_type, bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS);
    assert_eq!(
        (
            outer.def.key_size,
            outer.def.value_size,
            outer.def.max_entries
        ),
        (4, 4, 4)
    );
    let inner = outer.def.inner.as_deref().expect("inner map template");
    assert_eq!(
        (
            inner.map_type,
            inner.key_size,
            inner.value_size,
            inner.max_entries
        ),
        (bpf_map_type::BPF_MAP_TYPE_ARRAY, 4, 4, 1)
    );
    assert_eq!(
        outer.initial_slots,
        [
            MapSlot {
                index: 0,
                target: SlotTarget::Map("inner_a".into())
            },
            MapSlot {
                index: 2,
                target: SlotTarget::Map("inner_b".into())
            }
        ]
    );
}

#[test]
fn prog_array_initial_slots() {
    let object = Object::parse(MAPS).unwrap();
    let table = btf_map(&object, "jump_table");
    assert_eq!(table.def.map_type, bpf_map_type::BPF_MAP_TYPE_PROG_ARRAY);
    assert_eq!(
        (
            table.def.key_size,
            table.def.value_size,
            table.def.max_entries
        ),
        (4, 4, 3)
    );
    assert!(table.def.inner.is_none());
    assert_eq!(
        table.initial_slots,
        [
            MapSlot {
                index: 0,
                target: SlotTarget::Program("tail_one".into())
            },
            MapSlot {
                index: 1,
                target: SlotTarget::Program("tail_two".into())
            }
        ]
    );
}

#[test]
fn legacy_and_btf_map_loads_are_relocated() {
    let object = Object::parse(MAPS).unwrap();
    let mut bindings = Bindings::default();
    for (i, map) in object.maps.iter().enumerate() {
        bindings
            .maps
            .insert(map.name.clone(), MapReference::Fd(50 + i as i32));
    }
    let program = object.relocate("use_maps", &bindings).unwrap();
    assert_eq!(
        program.maps,
        [
            "btf_hash",
            "jump_table",
            "legacy_array",
            "legacy_hash",
            "outer",
            "sized_array"
        ]
    );
    let entry = object
        .function(object.program("use_maps").unwrap().function)
        .unwrap();
    for relocation in &entry.relocations {
        let insn = &program.insns[relocation.insn_index];
        let index = object
            .maps
            .iter()
            .position(|m| m.name == relocation.symbol.name)
            .unwrap();
        assert_eq!(
            (insn.code, u32::from(insn.src_reg()), insn.imm),
            (0x18, BPF_PSEUDO_MAP_FD, 50 + index as i32)
        );
        assert_eq!(program.insns[relocation.insn_index + 1].imm, 0);
    }
}

#[test]
fn func_and_line_info_follow_the_linked_layout() {
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o")).unwrap();
    let program = object
        .relocate(
            "entry_calls",
            &Bindings {
                maps: object
                    .maps
                    .iter()
                    .map(|m| (m.name.clone(), MapReference::Fd(9)))
                    .collect(),
                ..Bindings::default()
            },
        )
        .unwrap();
    let starts: Vec<u32> = program
        .functions
        .iter()
        .map(|(_, start)| *start as u32)
        .collect();
    let func_offsets: Vec<u32> = program.func_info.iter().map(|r| r.insn_off).collect();
    assert_eq!(
        func_offsets, starts,
        "one func_info per linked function, at its start"
    );
    assert!(program.func_info.iter().all(|r| r.type_id != 0));
    assert!(!program.line_info.is_empty());
    assert!(
        program
            .line_info
            .windows(2)
            .all(|w| w[0].insn_off <= w[1].insn_off)
    );
    assert!(
        program
            .line_info
            .iter()
            .all(|r| (r.insn_off as usize) < program.insns.len())
    );
    for &start in &starts {
        assert!(
            program.line_info.iter().any(|r| r.insn_off == start),
            "line info at {start}"
        );
    }
    assert_eq!(
        program.func_info_bytes().len(),
        program.func_info.len() * program.func_info_rec_size as usize
    );
    assert_eq!(
        program.line_info_bytes().len(),
        program.line_info.len() * program.line_info_rec_size as usize
    );
}

#[test]
fn struct_ops_map_points_members_at_programs() {
    let object =
        Object::parse(include_bytes!("../../tests/bpf/obj/parse_struct_ops.bpf.o")).unwrap();
    let map = object.map("test_cc").unwrap();
    assert_eq!(map.kind, MapKind::StructOps);
    assert_eq!(map.def.map_type, bpf_map_type::BPF_MAP_TYPE_STRUCT_OPS);
    assert_eq!(
        map.def.map_flags,
        1 << 13,
        "BPF_F_LINK for .struct_ops.link"
    );
    let ops = map.struct_ops.as_ref().unwrap();
    assert_eq!(ops.type_name, "tcp_congestion_ops");
    assert!(ops.link);
    let members: Vec<(&str, &str)> = ops
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.program.as_str()))
        .collect();
    assert_eq!(
        members,
        [
            ("ssthresh", "cc_ssthresh"),
            ("cong_avoid", "cc_cong_avoid"),
            ("undo_cwnd", "cc_undo_cwnd")
        ]
    );
    // The initial value carries the non-pointer members, e.g. the name.
    assert_eq!(map.data.len() as u32, map.def.value_size);
    assert!(map.data.windows(11).any(|w| w == b"bpf_test_cc"));
    let program = object.program("cc_ssthresh").unwrap();
    assert_eq!(
        program.section,
        bpf_core::obj::ProgramSection::StructOps {
            member: Some("ssthresh".into()),
            sleepable: false
        }
    );
}
