//! `BPF_MAP_TYPE_ARENA` maps and `__arena` globals (`.addr_space.1`): parsing, placement at the
//! end of the arena, and relocation of references as arena map value loads.

use bpf_core::obj::{ARENA_SECTION, Object, Variable};
use bpf_core::relocation::{Bindings, MapReference, RelocatedProgram, RelocationErrorKind};
use bpf_sys::generated::{BPF_PSEUDO_MAP_VALUE, bpf_map_type};

const ARENA: &[u8] = include_bytes!("../../tests/bpf/obj/map_arena.bpf.o");
const FIXED: &[u8] = include_bytes!("../../tests/bpf/obj/map_arena_fixed.bpf.o");

const PAGE: u64 = 4096;
/// Where the globals land in the test object's 4-page arena with 4 KiB pages: the last page.
const DATA_OFFSET: u64 = 3 * PAGE;

fn bindings(object: &Object, arena_data_offset: Option<u64>) -> Bindings {
    let mut bindings = Bindings {
        arena_data_offset,
        ..Bindings::default()
    };
    for (i, map) in object.maps.iter().enumerate() {
        bindings
            .maps
            .insert(map.name.clone(), MapReference::Fd(100 + i as i32));
    }
    bindings
}

fn fd_of(object: &Object, map: &str) -> i32 {
    100 + object.maps.iter().position(|m| m.name == map).unwrap() as i32
}

/// The value offsets of the `BPF_PSEUDO_MAP_VALUE` loads of map fd `fd`, in order.
fn value_loads(program: &RelocatedProgram, fd: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < program.insns.len() {
        let insn = &program.insns[i];
        if insn.code == 0x18 {
            if u32::from(insn.src_reg()) == BPF_PSEUDO_MAP_VALUE && insn.imm == fd {
                out.push(program.insns[i + 1].imm);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn arena_map_and_globals_are_parsed() {
    let object = Object::parse(ARENA).unwrap();
    let arena = object.map("arena").unwrap();
    assert!(arena.is_arena());
    assert_eq!(arena.def.map_type, bpf_map_type::BPF_MAP_TYPE_ARENA);
    assert_eq!((arena.def.max_entries, arena.def.map_extra), (4, 0));
    assert_ne!(arena.def.map_flags & (1 << 10), 0, "BPF_F_MMAPABLE");
    assert_eq!(object.arena_maps().count(), 1);
    // `.addr_space.1` is no map of its own.
    assert!(object.map(ARENA_SECTION).is_none());

    let data = object.arena_data.as_ref().expect(".addr_space.1 is read");
    assert_eq!(
        data.variables,
        [
            Variable {
                name: "arena_init".into(),
                offset: 0,
                size: 4
            },
            Variable {
                name: "arena_counter".into(),
                offset: 8,
                size: 8
            },
        ]
    );
    assert_eq!(data.size(), 16);
    assert_eq!(&data.data[..4], &5i32.to_ne_bytes());
    assert!(data.data[4..].iter().all(|&b| b == 0));
    assert_eq!(
        object.arena_data_offset(4 * PAGE, PAGE),
        Ok(Some(DATA_OFFSET))
    );
    assert!(object.arena_data_offset(0, PAGE).is_err());
}

#[test]
fn map_extra_is_read_from_ulong() {
    let object = Object::parse(FIXED).unwrap();
    let arena = object.map("fixed_arena").unwrap();
    assert_eq!(arena.def.map_extra, (1 << 44) + (1 << 20));
    assert_eq!(arena.def.max_entries, 2);
    assert!(object.arena_data.is_none());
    assert_eq!(object.arena_data_offset(2 * PAGE, PAGE), Ok(None));
}

#[test]
fn references_become_arena_value_loads_at_the_end_of_the_arena() {
    let object = Object::parse(ARENA).unwrap();
    let bindings = bindings(&object, Some(DATA_OFFSET));
    let arena_fd = fd_of(&object, "arena");

    let read = object.relocate("arena_read", &bindings).unwrap();
    let init = DATA_OFFSET as i32;
    let counter = DATA_OFFSET as i32 + 8;
    assert_eq!(value_loads(&read, arena_fd), [init, counter]);
    assert_eq!(value_loads(&read, fd_of(&object, ".bss")), [8]);
    assert_eq!(read.maps, [".bss", "arena"]);

    let alloc = object.relocate("arena_alloc", &bindings).unwrap();
    assert_eq!(value_loads(&alloc, arena_fd), [counter, init]);
    // The map argument of bpf_arena_alloc_pages stays a plain map fd load.
    assert!(
        alloc
            .insns
            .iter()
            .any(|i| i.code == 0x18 && i.imm == arena_fd)
    );
}

#[test]
fn set_global_reaches_arena_globals() {
    let mut object = Object::parse(ARENA).unwrap();
    object
        .set_global("arena_init", &9i32.to_ne_bytes())
        .unwrap();
    assert_eq!(object.global("arena_init"), Some(&9i32.to_ne_bytes()[..]));
    object
        .set_global_in(ARENA_SECTION, "arena_counter", &3u64.to_ne_bytes())
        .unwrap();
    let data = &object.arena_data.as_ref().unwrap().data;
    assert_eq!(&data[8..16], &3u64.to_ne_bytes());
    assert!(object.set_global("arena_init", &[0u8; 8]).is_err());
}

#[test]
fn unplaced_missing_or_ambiguous_arenas_are_located_errors() {
    let object = Object::parse(ARENA).unwrap();
    let err = object
        .relocate("arena_read", &bindings(&object, None))
        .unwrap_err();
    assert_eq!(
        (err.program.as_str(), err.insn, err.symbol.as_str()),
        ("arena_read", 0, "arena_init")
    );
    assert_eq!(
        err.kind,
        RelocationErrorKind::ArenaDataNotPlaced {
            map: "arena".into()
        }
    );

    let mut without = object.clone();
    without.maps.retain(|m| !m.is_arena());
    let err = without
        .relocate("arena_read", &bindings(&without, Some(DATA_OFFSET)))
        .unwrap_err();
    assert_eq!(err.kind, RelocationErrorKind::NoArenaMap);
    assert_eq!((err.insn, err.symbol.as_str()), (0, "arena_init"));
    assert!(err.to_string().contains("arena_read"), "{err}");

    let mut two = object.clone();
    let mut second = two.map("arena").unwrap().clone();
    second.name = "other_arena".into();
    two.maps.push(second);
    let err = two
        .relocate("arena_read", &bindings(&two, Some(DATA_OFFSET)))
        .unwrap_err();
    assert_eq!(
        err.kind,
        RelocationErrorKind::SeveralArenaMaps {
            maps: "arena, other_arena".into()
        }
    );
}
