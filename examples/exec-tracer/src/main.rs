//! Every exec and exit on the machine, with how long each process ran, through a ring buffer.
//!
//! ```text
//! exec-tracer [--seconds 10] [--min-duration-ms 0] [--check]
//! ```
//!
//! `--check` starts `sh -c 'exit 3'` once attached and fails unless both its exec and its exit
//! (with code 3) arrive. Run as root.

use std::process::Command;
use std::time::{Duration, Instant};

include!(concat!(env!("OUT_DIR"), "/exec_tracer.skel.rs"));

use exec_tracer::types::{event, event_kind};

#[derive(Debug)]
struct Args {
    seconds: u64,
    min_duration_ms: u64,
    check: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10,
        min_duration_ms: 0,
        check: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or(format!("{name} needs a value"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--seconds" => args.seconds = number("--seconds")?,
            "--min-duration-ms" => args.min_duration_ms = number("--min-duration-ms")?,
            "--check" => {
                args.check = true;
                args.seconds = args.seconds.min(2);
            }
            other => {
                return Err(format!(
                    "unknown argument {other} (see the source's header)"
                ));
            }
        }
    }
    Ok(args)
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn run() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    let mut open = exec_tracer::open()?;
    open.rodata.min_duration_ns = args.min_duration_ms * 1_000_000;
    let mut skel = open.load()?;
    let attached = skel.attach()?;
    println!("attached {}", attached.join(", "));
    println!(
        "{:<5} {:<8} {:<8} {:<16} {:<10} DETAILS",
        "EVENT", "PID", "PPID", "COMM", "DURATION"
    );

    let child = if args.check {
        Some(Command::new("sh").args(["-c", "exit 3"]).spawn()?)
    } else {
        None
    };
    let child_pid = child.as_ref().map(|c| c.id());
    let (mut saw_exec, mut saw_exit) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let events = &mut skel.maps.events;
    while Instant::now() < deadline {
        events.wait(Some(Duration::from_millis(100)))?;
        while let Some(record) = events.next() {
            let Ok(e) = record.read::<event>() else {
                continue;
            };
            let (kind, duration, details) = match e.kind {
                event_kind::EVENT_EXEC => ("exec", String::new(), text(&e.filename)),
                event_kind::EVENT_EXIT => (
                    "exit",
                    format!("{}ms", e.duration_ns / 1_000_000),
                    format!("exit code {}", e.exit_code),
                ),
                _ => ("?", String::new(), String::new()),
            };
            println!(
                "{kind:<5} {:<8} {:<8} {:<16} {duration:<10} {details}",
                e.pid,
                e.ppid,
                text(&e.comm)
            );
            if Some(e.pid) == child_pid {
                saw_exec |= e.kind == event_kind::EVENT_EXEC;
                saw_exit |= e.kind == event_kind::EVENT_EXIT && e.exit_code == 3;
            }
        }
        if args.check && saw_exec && saw_exit {
            break;
        }
    }
    if let Some(mut child) = child {
        child.wait()?;
    }
    println!("{} records dropped (ring buffer full)", skel.bss.dropped());
    if args.check {
        if !(saw_exec && saw_exit) {
            anyhow::bail!(
                "check failed: exec of pid {child_pid:?} seen: {saw_exec}, exit with code 3: {saw_exit}"
            );
        }
        println!("check passed: the child's exec and exit (code 3) arrived");
    }
    Ok(())
}

/// Errors print as a chain (`anyhow`'s `Debug`): what failed, then each cause once.
fn main() -> anyhow::Result<()> {
    run()
}
