//! One whole first load of an object in this process, timed (run by `cargo xtask bench-load`):
//! `Bpf::load_file` and every program's `load()`, feature probes and kernel BTF included.
//! Prints `key=value` lines; `--offline` times open + CO-RE relocation without the kernel.
//!
//! `cargo run --release -p bpf-programs --example load_all -- [--offline] <object>`

use std::collections::HashMap;
use std::time::Instant;

use bpf_core::btf::core::CoreTarget;
use bpf_core::obj::Object;
use bpf_core::relocation::{Bindings, MapReference};
use bpf_programs::Bpf;
use bpf_programs::btf::read_btf_file;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Parses the object, reads and indexes vmlinux BTF and relocates every program (CO-RE
/// included): the loader's work up to `BPF_PROG_LOAD`, with placeholder map references instead
/// of fds. `read BTF` is the plain `read(2)` loop (sysfs hands out a page per call), shown
/// beside what the loader does: `read_btf_file`, which maps the file where the kernel allows.
fn offline(path: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    let bytes = bpf_sys::file_map::FileBytes::read(path)?;
    let object = Object::parse(bytes.as_slice())?;
    let opened = start.elapsed();
    let mut maps = HashMap::new();
    for (index, map) in (0..).zip(&object.maps) {
        maps.insert(map.name.clone(), MapReference::FdArrayIndex(index));
    }
    let read_start = Instant::now();
    std::hint::black_box(std::fs::read(VMLINUX)?);
    let plain_read = read_start.elapsed();
    let bindings = Bindings {
        maps,
        core_target: Some(CoreTarget::from_btf(read_btf_file(VMLINUX)?)),
        ..Bindings::default()
    };
    let target_read = start.elapsed() - plain_read;
    for program in &object.programs {
        std::hint::black_box(object.relocate(&program.name, &bindings)?);
    }
    let total = start.elapsed() - plain_read;
    println!("ours.offline_programs={}", object.programs.len());
    println!("ours.offline_plain_read_us={}", plain_read.as_micros());
    println!("ours.offline_open_us={}", opened.as_micros());
    println!(
        "ours.offline_vmlinux_us={}",
        (target_read - opened).as_micros()
    );
    println!(
        "ours.offline_relocate_us={}",
        (total - target_read).as_micros()
    );
    println!("ours.offline_us={}", total.as_micros());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, path] if flag == "--offline" => offline(path),
        [path] => {
            let start = Instant::now();
            let mut bpf = Bpf::load_file(path)?;
            let opened = start.elapsed();
            let mut loaded = 0;
            for (_, program) in bpf.programs_mut() {
                program.load()?;
                loaded += 1;
            }
            let total = start.elapsed();
            println!("ours.programs={loaded}");
            println!("ours.open_us={}", opened.as_micros());
            println!("ours.load_us={}", total.as_micros());
            Ok(())
        }
        _ => anyhow::bail!("usage: load_all [--offline] <object>"),
    }
}
