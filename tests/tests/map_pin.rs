//! Pinned maps: reopened by a second process, reused by definition, mismatches refused.

use std::path::PathBuf;
use std::process::Command;

use bpf_core::obj::{Map as ObjMap, MapDef, MapKind};
use bpf_programs::maps::flags::BPF_ANY;
use bpf_programs::maps::{HashMap, MapData, MapError, MapInfo};
use bpf_sys::generated::bpf_map_type;
use integration_tests::error_chain;

const CHILD_ENV: &str = "MAP_PIN_TEST_CHILD_PATH";

fn pin_dir() -> Option<PathBuf> {
    let dir = PathBuf::from("/sys/fs/bpf");
    let statfs_bpf = std::fs::read_to_string("/proc/mounts")
        .ok()?
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/bpf") && l.contains(" bpf "));
    statfs_bpf.then_some(dir)
}

#[test]
fn pinned_map_from_second_process() {
    // Child side: the same test binary, started with the pin path in the environment.
    if let Ok(path) = std::env::var(CHILD_ENV) {
        let mut map = HashMap::<_, u32, u64>::from_pin(&path).unwrap();
        let seen = map.get(&1, 0).unwrap();
        map.insert(2, seen.unwrap_or(0) + 1, BPF_ANY).unwrap();
        std::process::exit(if seen == Some(41) { 0 } else { 3 });
    }
    let Some(dir) = pin_dir() else {
        println!("SKIPPED map_pin::pinned_map_from_second_process: no bpffs at /sys/fs/bpf");
        return;
    };
    let path = dir.join(format!("maps_test_pin_{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut map = HashMap::<_, u32, u64>::create(8, 0).unwrap();
    map.insert(1, 41, BPF_ANY).unwrap();
    map.pin(&path).unwrap();
    assert_eq!(map.map_data().pinned_path(), Some(path.as_path()));
    assert_eq!(
        MapInfo::from_pin(&path).unwrap().id(),
        map.info().unwrap().id()
    );

    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "pinned_map_from_second_process", "--nocapture"])
        .env(CHILD_ENV, &path)
        .status()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(status.success(), "child saw the wrong value: {status}");
    assert_eq!(
        map.get(&2, 0).unwrap(),
        Some(42),
        "child's write is visible"
    );
}

#[test]
fn pinned_by_definition_is_reused_or_refused() {
    let Some(dir) = pin_dir() else {
        println!("SKIPPED map_pin::pinned_by_definition_is_reused_or_refused: no bpffs");
        return;
    };
    let path = dir.join(format!("maps_test_reuse_{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut obj_map = ObjMap {
        name: "reused".into(),
        kind: MapKind::Btf,
        def: MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_HASH,
            key_size: 4,
            value_size: 4,
            max_entries: 16,
            ..MapDef::default()
        },
        section_index: None,
        section_offset: 0,
        data: Vec::new(),
        variables: Vec::new(),
        initial_slots: Vec::new(),
        struct_ops: None,
    };
    let first = MapData::create_or_open_pinned(&obj_map, "reused", None, &path).unwrap();
    let mut typed = HashMap::<_, u32, u32>::new(first).unwrap();
    typed.insert(5, 55, BPF_ANY).unwrap();
    let second = MapData::create_or_open_pinned(&obj_map, "reused", None, &path).unwrap();
    let second = HashMap::<_, u32, u32>::new(second).unwrap();
    assert_eq!(
        second.get(&5, 0).unwrap(),
        Some(55),
        "the pinned map was reused"
    );

    obj_map.def.max_entries = 32;
    let err = MapData::create_or_open_pinned(&obj_map, "reused", None, &path).unwrap_err();
    assert!(
        matches!(err, MapError::PinMismatch { .. }),
        "unexpected: {err}"
    );
    assert!(err.to_string().contains("max_entries"), "{err}");
    let mut data = typed.into_inner();
    data.unpin().unwrap();
    assert!(!path.exists());
}

#[test]
fn opening_a_missing_pin_names_the_command() {
    let err = MapData::from_pin("/sys/fs/bpf/definitely_not_pinned_here").unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT));
    assert!(error_chain(&err).contains("BPF_OBJ_GET"), "{err}");
}
