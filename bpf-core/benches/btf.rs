//! BTF benchmark (run by `cargo xtask bench-btf`): vmlinux parse time and memory, CO-RE time.
//! Prints `key=value` lines the xtask runner reads.

use std::time::{Duration, Instant};

use bpf_core::btf::core::{CoreTarget, relocate};
use bpf_core::btf::{Btf, BtfExt};
use bpf_sys::file_map::FileBytes;
use bpf_sys::generated::bpf_insn;
use object::{Object, ObjectSection};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const ITERATIONS: usize = 50;

/// Peak resident set size of this process so far, in KiB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    (
        samples[0].as_secs_f64() * 1e6,
        samples[samples.len() / 2].as_secs_f64() * 1e6,
    )
}

fn decode(bytes: &[u8]) -> Vec<bpf_insn> {
    bytes
        .chunks_exact(8)
        .map(|c| bpf_insn {
            code: c[0],
            _bitfield_1: bpf_insn::new_bitfield_1(c[1] & 0xf, c[1] >> 4),
            off: i16::from_le_bytes([c[2], c[3]]),
            imm: i32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            ..Default::default()
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let base_rss = peak_rss_kb();
    let first = Btf::parse_shared(
        std::sync::Arc::new(FileBytes::read(VMLINUX).expect("read vmlinux")),
        None,
    )
    .expect("parse vmlinux");
    let rss = peak_rss_kb().saturating_sub(base_rss);
    let types = first.len();
    drop(first);
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let start = Instant::now();
        let btf = Btf::parse_shared(
            std::sync::Arc::new(FileBytes::read(VMLINUX).expect("read vmlinux")),
            None,
        )
        .expect("parse vmlinux");
        samples.push(start.elapsed());
        std::hint::black_box(&btf);
    }
    let (min, median) = stats(samples);
    // The same without the file read: the in-memory indexing alone.
    let raw = std::fs::read(VMLINUX).expect("read vmlinux");
    let mut index_samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let copy = raw.clone();
        let start = Instant::now();
        let btf = Btf::parse_owned(copy, None).expect("parse vmlinux");
        index_samples.push(start.elapsed());
        std::hint::black_box(&btf);
    }
    let (index_min, index_median) = stats(index_samples);
    println!("ours.index_us_min={index_min:.0}");
    println!("ours.index_us_median={index_median:.0}");
    println!("ours.types={types}");
    println!("ours.parse_us_min={min:.0}");
    println!("ours.parse_us_median={median:.0}");
    println!("ours.rss_kb={rss}");

    // CO-RE: relocate every program of core_vmlinux.o (10 programs reading kernel structs).
    let obj = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/bpf/obj/core/core_vmlinux.o"
    ))
    .expect("object");
    let file = object::File::parse(&*obj).expect("elf");
    let local = Btf::parse(file.section_by_name(".BTF").unwrap().data().unwrap()).unwrap();
    let ext = BtfExt::parse(
        file.section_by_name(".BTF.ext").unwrap().data().unwrap(),
        &local,
    )
    .unwrap();
    let sections: Vec<_> = ext
        .core_relos
        .iter()
        .map(|s| {
            (
                decode(file.section_by_name(&s.name).unwrap().data().unwrap()),
                s.records.clone(),
            )
        })
        .collect();
    let relos: usize = sections.iter().map(|s| s.1.len()).sum();
    let run = |target: &CoreTarget| {
        for (insns, records) in &sections {
            let mut insns = insns.clone();
            relocate(&mut insns, records, &local, target).expect("relocate");
        }
    };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..10 {
        let target = CoreTarget::from_btf(
            Btf::parse_shared(
                std::sync::Arc::new(FileBytes::read(VMLINUX).expect("read vmlinux")),
                None,
            )
            .unwrap(),
        );
        let start = Instant::now();
        run(&target);
        cold.push(start.elapsed());
        let start = Instant::now();
        run(&target);
        warm.push(start.elapsed());
    }
    let (cold_min, cold_median) = stats(cold);
    let (warm_min, _) = stats(warm);
    println!("ours.core_relos={relos}");
    println!("ours.core_cold_us_min={cold_min:.0}");
    println!("ours.core_cold_us_median={cold_median:.0}");
    println!("ours.core_warm_us_min={warm_min:.0}");
}
