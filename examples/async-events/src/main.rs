//! Process exits read from a Tokio task: an `AsyncRingBuf` awaited in one `tokio::select!`
//! with a ticker and a deadline, so one task serves every event source.
//!
//! Run as root: `cargo run --release -p async-events` (`-- --check` fails unless the example's
//! own children were seen with their exit codes).

use std::process::Command;
use std::time::Duration;

use bpf_programs::maps::AsyncRingBuf;

include!(concat!(env!("OUT_DIR"), "/exits.skel.rs"));

use exits::types::exit_event;

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
    let mut open = exits::open()?;
    open.rodata.watcher_pid = std::process::id();
    let mut skel = open.load()?;
    skel.attach()?;
    let mut events = AsyncRingBuf::new(skel.maps.exit_events)?;

    // Something to see on an idle machine: children of our own, one of them failing.
    let children = tokio::task::spawn_blocking(|| {
        for (program, args) in [
            ("true", &[][..]),
            ("false", &[][..]),
            ("sh", &["-c", "exit 7"][..]),
        ] {
            let _ = Command::new(program).args(args).status();
            std::thread::sleep(Duration::from_millis(200));
        }
    });

    println!(
        "{:<8} {:<8} {:<16} {:>4} {:>10}",
        "PID", "PPID", "COMM", "CODE", "LIFETIME"
    );
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let deadline = tokio::time::sleep(Duration::from_secs(2));
    tokio::pin!(deadline);
    let (mut received, mut own_codes) = (0, Vec::new());
    loop {
        tokio::select! {
            record = events.next() => {
                let event: exit_event = record?.read()?;
                received += 1;
                if event.child_of_watcher != 0 {
                    own_codes.push(event.exit_code);
                }
                println!(
                    "{:<8} {:<8} {:<16} {:>4} {:>8}ms",
                    event.pid,
                    event.ppid,
                    text(&event.comm),
                    event.exit_code,
                    event.lifetime_ns / 1_000_000
                );
            }
            _ = ticker.tick() => println!("… {received} exits so far"),
            _ = &mut deadline => break,
        }
    }
    children.await?;
    println!(
        "{received} exits read, {} seen by the program",
        skel.bss.exits_seen()
    );
    own_codes.sort_unstable();
    if check && own_codes != [0, 1, 7] {
        anyhow::bail!(
            "check failed: the example's children exited with {own_codes:?}, expected [0, 1, 7]"
        );
    }
    Ok(())
}
