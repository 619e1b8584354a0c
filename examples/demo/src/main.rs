//! Watches the system for two seconds: syscalls counted per process name, and every program
//! executed (with its parent, read by CO-RE from the running kernel's `task_struct`) streamed
//! through a ring buffer. The demo runs a few commands of its own so there is something to see.
//!
//! Run as root: `cargo run --release -p demo` (`-- --check` fails unless the demo's own children
//! were seen). The build (build.rs) compiles
//! `src/bpf/demo.bpf.c` with clang against a `vmlinux.h` written from this kernel's BTF and
//! generates the typed skeleton included below.

use std::process::Command;
use std::time::{Duration, Instant};

use bpf_programs::maps::RingBuf;

include!(concat!(env!("OUT_DIR"), "/demo.skel.rs"));

use demo::types::exec_event;

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
    let started = Instant::now();
    let mut open = demo::open()?;
    open.rodata.demo_pid = std::process::id();
    let mut skel = open.load()?;
    skel.attach()?;
    println!(
        "loaded, relocated against this kernel's BTF and attached in {:.1} ms; watching for 2 s…",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let events: &mut RingBuf<_> = &mut skel.maps.exec_events;
    let mut execs_printed = 0;
    let mut own_children = 0;
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
            let Ok(event) = record.read::<exec_event>() else {
                continue;
            };
            own_children += u32::from(event.child_of_demo != 0);
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
    println!("… {} execs in total", skel.bss.execs_seen());

    let mut rows = Vec::new();
    for entry in skel.maps.syscalls_by_comm.iter() {
        let (key, count) = entry?;
        rows.push((count, text(&key.comm)));
    }
    rows.sort_unstable_by(|a, b| b.cmp(a));
    println!("\n{:<16} {:>10}", "COMM", "SYSCALLS");
    for (count, comm) in rows.iter().take(10) {
        println!("{comm:<16} {count:>10}");
    }
    if check && own_children < 3 {
        anyhow::bail!("check failed: {own_children} of the demo's 3 children seen");
    }
    Ok(())
}
