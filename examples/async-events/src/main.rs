//! The demo's exec stream read from a Tokio task: an `AsyncRingBuf` awaited in one
//! `tokio::select!` with a ticker and a deadline, so one task serves every event source.
//!
//! Run as root: `cargo run --release -p async-events` (`-- --check` fails unless the example's
//! own children were seen).

use std::process::Command;
use std::time::Duration;

use bpf_programs::maps::AsyncRingBuf;

include!(concat!(env!("OUT_DIR"), "/demo.skel.rs"));

use demo::types::exec_event;

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
    let mut open = demo::open()?;
    open.rodata.demo_pid = std::process::id();
    let mut skel = open.load()?;
    skel.attach()?;
    let mut events = AsyncRingBuf::new(skel.maps.exec_events)?;

    // Something to see on an idle machine: a few commands of our own, in the background.
    let children = tokio::task::spawn_blocking(|| {
        for program in ["uname", "true", "id"] {
            let _ = Command::new(program).output();
            std::thread::sleep(Duration::from_millis(200));
        }
    });

    println!("{:<8} {:<8} {:<16} EXECUTED", "PID", "PPID", "COMM");
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let deadline = tokio::time::sleep(Duration::from_secs(2));
    tokio::pin!(deadline);
    let (mut received, mut own_children) = (0, 0);
    loop {
        tokio::select! {
            record = events.next() => {
                let event: exec_event = record?.read()?;
                received += 1;
                own_children += u32::from(event.child_of_demo != 0);
                println!(
                    "{:<8} {:<8} {:<16} {}",
                    event.pid,
                    event.ppid,
                    text(&event.comm),
                    text(&event.filename)
                );
            }
            _ = ticker.tick() => println!("… {received} execs so far"),
            _ = &mut deadline => break,
        }
    }
    children.await?;
    println!(
        "{received} execs read, {} seen by the program",
        skel.bss.execs_seen()
    );
    if check && own_children < 3 {
        anyhow::bail!("check failed: {own_children} of the example's 3 children seen");
    }
    Ok(())
}
