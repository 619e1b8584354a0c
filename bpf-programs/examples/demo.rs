//! Counts syscalls per process name for two seconds, then prints the busiest processes.
//!
//! Run as root: `cargo run --release -p bpf-programs --example demo`.

use std::time::{Duration, Instant};

use bpf_programs::Bpf;
use bpf_programs::maps::{HashMap, Pod};
use bpf_programs::programs::RawTracePoint;

/// The map key: a task's `comm`, NUL-padded.
#[derive(Clone, Copy)]
#[repr(C)]
struct Comm([u8; 16]);

// SAFETY: a byte array: no padding, every bit pattern valid.
unsafe impl Pod for Comm {}

const OBJECT: &[u8] = include_bytes!("bpf/obj/demo.bpf.o");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut bpf = Bpf::load(OBJECT)?;
    let program: &mut RawTracePoint = bpf
        .program_mut("count_syscalls")
        .ok_or("no program `count_syscalls` in the object")?
        .try_into()?;
    program.load()?;
    program.attach("sys_enter")?;
    println!("counting syscalls for 2 seconds…");

    // Some work of our own, so that the demo shows up in its own report.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut reads = 0u64;
    while Instant::now() < deadline {
        let _ = std::fs::metadata("/proc/self");
        reads += 1;
        if reads.is_multiple_of(1000) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    let map = bpf
        .map("syscalls_by_comm")
        .ok_or("no map `syscalls_by_comm`")?;
    let counts: HashMap<_, Comm, u64> = HashMap::try_from(map)?;
    let mut rows = Vec::new();
    for entry in counts.iter() {
        let (comm, count) = entry?;
        let end = comm.0.iter().position(|&b| b == 0).unwrap_or(comm.0.len());
        rows.push((count, String::from_utf8_lossy(&comm.0[..end]).into_owned()));
    }
    rows.sort_unstable_by(|a, b| b.cmp(a));
    println!("{:<16} {:>10}", "COMM", "SYSCALLS");
    for (count, comm) in rows.iter().take(10) {
        println!("{comm:<16} {count:>10}");
    }
    Ok(())
}
