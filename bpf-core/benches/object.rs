//! Parse and relocate throughput on the committed test objects: `cargo bench -p bpf-core`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bpf_core::obj::Object;
use bpf_core::relocation::{Bindings, MapReference};

const OBJECTS: &[(&str, &[u8])] = &[
    (
        "parse_maps",
        include_bytes!("../../tests/bpf/obj/parse_maps.bpf.o"),
    ),
    (
        "reloc_calls",
        include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o"),
    ),
    (
        "reloc_externs",
        include_bytes!("../../tests/bpf/obj/reloc_externs.bpf.o"),
    ),
];

/// Runs `f` for about `budget` and returns the mean time per call.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < budget {
        f();
        runs += 1;
    }
    start.elapsed() / runs.max(1)
}

fn main() {
    let budget = Duration::from_millis(500);
    for (name, bytes) in OBJECTS {
        let parse = measure(budget, || {
            black_box(Object::parse(black_box(bytes)).unwrap());
        });
        let object = Object::parse(bytes).unwrap();
        let bindings = Bindings {
            maps: object
                .maps
                .iter()
                .map(|m| (m.name.clone(), MapReference::Fd(3)))
                .collect(),
            ksyms: object
                .externs
                .iter()
                .map(|e| (e.name.clone(), bpf_core::relocation::KsymValue::Address(1)))
                .collect(),
            ..Bindings::default()
        };
        let relocate = measure(budget, || {
            for program in &object.programs {
                black_box(object.relocate(&program.name, &bindings).ok());
            }
        });
        println!(
            "{name:>14}: parse {:>9.1} µs, relocate all {} programs {:>8.1} µs",
            parse.as_secs_f64() * 1e6,
            object.programs.len(),
            relocate.as_secs_f64() * 1e6
        );
    }
}
