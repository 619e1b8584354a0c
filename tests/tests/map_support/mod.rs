//! Loads a test object for the map tests with `BpfLoader`, loads every program, and runs
//! programs with BPF_PROG_TEST_RUN.
#![allow(dead_code)]

use std::os::fd::{AsFd, BorrowedFd};

use bpf_programs::maps::Map;
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::test_run::{TestRunAttr, TestRunOutput, prog_test_run};

/// The bytes of a committed test object.
pub fn object_bytes(name: &str) -> &'static [u8] {
    // Embedded, so the test binaries run anywhere (e.g. inside the vm-test guest).
    match name {
        "map_programs.bpf.o" => integration_tests::bpf_object!("map_programs.bpf.o"),
        "map_in_map.bpf.o" => integration_tests::bpf_object!("map_in_map.bpf.o"),
        "map_bloom.bpf.o" => integration_tests::bpf_object!("map_bloom.bpf.o"),
        "map_readers.bpf.o" => integration_tests::bpf_object!("map_readers.bpf.o"),
        _ => panic!("no embedded test object {name}"),
    }
}

/// A loaded object with every program loaded.
pub struct Loaded {
    pub bpf: Bpf,
}

impl Loaded {
    pub fn map(&self, name: &str) -> &Map {
        self.bpf
            .map(name)
            .unwrap_or_else(|| panic!("no map {name}"))
    }

    pub fn map_mut(&mut self, name: &str) -> &mut Map {
        self.bpf
            .map_mut(name)
            .unwrap_or_else(|| panic!("no map {name}"))
    }

    pub fn take_map(&mut self, name: &str) -> Map {
        self.bpf
            .take_map(name)
            .unwrap_or_else(|| panic!("no map {name}"))
    }

    pub fn program(&self, name: &str) -> BorrowedFd<'_> {
        self.bpf
            .program(name)
            .unwrap_or_else(|| panic!("no program {name}"))
            .fd()
            .unwrap_or_else(|e| panic!("program {name} not loaded: {e}"))
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

/// Loads `object` (after `configure` sets globals etc.) and loads every program.
pub fn load(object: &str, configure: impl FnOnce(&mut BpfLoader)) -> Loaded {
    let mut loader = BpfLoader::new();
    configure(&mut loader);
    let mut bpf = loader
        .load(object_bytes(object))
        .unwrap_or_else(|e| panic!("loading {object}: {e}"));
    let names: Vec<String> = bpf.programs().map(|(n, _)| n.to_owned()).collect();
    for name in names {
        if let Some(program) = bpf.program_mut(&name) {
            program
                .load()
                .unwrap_or_else(|e| panic!("loading program {name}: {e}"));
        }
    }
    Loaded { bpf }
}
