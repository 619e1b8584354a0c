//! Watches the system for two seconds: syscalls counted per process name, and every program
//! executed (with its parent, read by CO-RE from the running kernel's `task_struct`) streamed
//! through a ring buffer. The demo runs a few commands of its own so there is something to see.
//!
//! Run as root: `cargo run --release -p bpf-programs --example demo`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use bpf_programs::BpfLoader;
use bpf_programs::maps::{GlobalData, HashMap, Pod, RingBuf};
use bpf_programs::programs::{RawTracePoint, TracePoint};

/// The map key: a task's `comm`, NUL-padded.
#[derive(Clone, Copy)]
#[repr(C)]
struct Comm([u8; 16]);

// SAFETY: a byte array: no padding, every bit pattern valid.
unsafe impl Pod for Comm {}

/// `struct exec_event` of demo.bpf.c.
#[derive(Clone, Copy)]
#[repr(C)]
struct ExecEvent {
    pid: u32,
    ppid: u32,
    child_of_demo: u32,
    comm: [u8; 16],
    filename: [u8; 64],
}

// SAFETY: integers and byte arrays laid out without padding; every bit pattern valid.
unsafe impl Pod for ExecEvent {}

const OBJECT: &[u8] = include_bytes!("bpf/obj/demo.bpf.o");

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Errors print as a chain (`anyhow`'s `Debug`): what failed, then each cause once.
fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut bpf = BpfLoader::new()
        .set_global("demo_pid", &std::process::id())
        .load(OBJECT)?;
    let counter: &mut RawTracePoint = bpf
        .program_mut("count_syscalls")
        .context("no program `count_syscalls` in the object")?
        .try_into()?;
    counter.load()?;
    counter.attach("sys_enter")?;
    let execs: &mut TracePoint = bpf
        .program_mut("report_exec")
        .context("no program `report_exec` in the object")?
        .try_into()?;
    execs.load()?;
    execs.attach_default()?;
    println!(
        "loaded, relocated against this kernel's BTF and attached in {:.1} ms; watching for 2 s…",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let mut events = RingBuf::try_from(bpf.take_map("exec_events").context("no ring buffer")?)?;
    let mut execs_printed = 0;
    println!(
        "\n{:<8} {:<8} {:<16} {:<40}",
        "PID", "PPID", "COMM", "EXECUTED"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut spawned = false;
    while Instant::now() < deadline {
        if !spawned {
            // Children of the demo, so the exec stream shows something even on an idle machine.
            for (program, args) in [
                ("uname", &["-r"][..]),
                ("true", &[]),
                ("sh", &["-c", "exit 0"]),
            ] {
                Command::new(program).args(args).output()?;
            }
            spawned = true;
        }
        while let Some(record) = events.next() {
            let Ok(event) = record.read::<ExecEvent>() else {
                continue;
            };
            if execs_printed < 15 {
                let mark = if event.child_of_demo != 0 {
                    "  (started by this demo)"
                } else {
                    ""
                };
                println!(
                    "{:<8} {:<8} {:<16} {}{mark}",
                    event.pid,
                    event.ppid,
                    text(&event.comm),
                    text(&event.filename)
                );
            }
            execs_printed += 1;
        }
        events.wait(Some(Duration::from_millis(20)))?;
    }
    let bss = GlobalData::try_from(bpf.map(".bss").context("no .bss")?)?;
    let seen: u64 = bss.get("execs_seen")?;
    println!("… {seen} execs in total");

    let map = bpf
        .map("syscalls_by_comm")
        .context("no map `syscalls_by_comm`")?;
    let counts: HashMap<_, Comm, u64> = HashMap::try_from(map)?;
    let mut rows = Vec::new();
    for entry in counts.iter() {
        let (comm, count) = entry?;
        rows.push((count, text(&comm.0)));
    }
    rows.sort_unstable_by(|a, b| b.cmp(a));
    println!("\n{:<16} {:>10}", "COMM", "SYSCALLS");
    for (count, comm) in rows.iter().take(10) {
        println!("{comm:<16} {count:>10}");
    }
    Ok(())
}
