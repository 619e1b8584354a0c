//! Loads a test object for the map tests: maps through `MapData::create`, programs relocated
//! by bpf-core and loaded with bpf-sys (independent of the `Bpf` loader).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use bpf_core::obj::Object;
use bpf_core::relocation::{Bindings, MapReference};
use bpf_programs::maps::{Map, MapData};
use bpf_sys::prog::{ProgLoadAttr, prog_load};
use bpf_sys::test_run::{TestRunAttr, TestRunOutput, prog_test_run};

/// Path of a committed test object.
pub fn object_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("bpf/obj")
        .join(name)
}

/// An object's maps (by name) and loaded programs (by name).
pub struct Loaded {
    pub maps: BTreeMap<String, Map>,
    pub programs: BTreeMap<String, OwnedFd>,
}

impl Loaded {
    pub fn map(&self, name: &str) -> &Map {
        self.maps
            .get(name)
            .unwrap_or_else(|| panic!("no map {name}"))
    }

    pub fn map_mut(&mut self, name: &str) -> &mut Map {
        self.maps
            .get_mut(name)
            .unwrap_or_else(|| panic!("no map {name}"))
    }

    pub fn take_map(&mut self, name: &str) -> Map {
        self.maps
            .remove(name)
            .unwrap_or_else(|| panic!("no map {name}"))
    }

    pub fn program(&self, name: &str) -> BorrowedFd<'_> {
        self.programs
            .get(name)
            .unwrap_or_else(|| panic!("no program {name}"))
            .as_fd()
    }

    /// Runs a raw_tp program once on `cpu` (BPF_F_TEST_RUN_ON_CPU).
    pub fn run_on_cpu(&self, name: &str, cpu: u32) -> TestRunOutput {
        let flags = bpf_sys::generated::BPF_F_TEST_RUN_ON_CPU;
        prog_test_run(
            self.program(name),
            TestRunAttr {
                flags,
                cpu,
                ..TestRunAttr::default()
            },
        )
        .unwrap_or_else(|e| panic!("test run of {name}: {e}"))
    }
}

/// Parses, creates maps (after `set_globals` edits the object) and loads every program.
pub fn load(object: &str, set_globals: impl FnOnce(&mut Object)) -> Loaded {
    let bytes = std::fs::read(object_path(object)).unwrap();
    let mut obj = Object::parse(&bytes).unwrap();
    set_globals(&mut obj);
    let mut maps = BTreeMap::new();
    for map in &obj.maps {
        let data = MapData::create(map, &map.name, None)
            .unwrap_or_else(|e| panic!("creating map {}: {e}", map.name));
        maps.insert(map.name.clone(), Map::from(data));
    }
    let mut bindings = Bindings::default();
    for (name, map) in &maps {
        bindings
            .maps
            .insert(name.clone(), MapReference::Fd(map.data().fd().as_raw_fd()));
    }
    let mut programs = BTreeMap::new();
    for program in &obj.programs {
        let relocated = obj.relocate(&program.name, &bindings).unwrap();
        let attr = ProgLoadAttr {
            prog_type: program.section.prog_type().unwrap(),
            expected_attach_type: program.section.expected_attach_type().unwrap_or(0),
            name: &program.name,
            insns: &relocated.insns,
            license: obj.license.as_deref().unwrap_or("GPL"),
            ..ProgLoadAttr::default()
        };
        let fd = prog_load(&attr).unwrap_or_else(|e| panic!("loading {}: {e}", program.name));
        programs.insert(program.name.clone(), fd);
    }
    Loaded { maps, programs }
}
