//! opensnoop: every file opened (openat), by whom, for a few seconds.
//! `first-tool [PID] [--check]`: only that process; `--check` watches itself open a file.

use std::time::{Duration, Instant};

include!(concat!(env!("OUT_DIR"), "/opensnoop.skel.rs"));

use opensnoop::types::open_event;

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
    let pid = match std::env::args().nth(1).filter(|a| a != "--check") {
        Some(pid) => pid.parse()?,
        None if check => std::process::id(),
        None => 0,
    };

    // Open: set the constants the verifier will see, then load and attach.
    let mut open = opensnoop::open()?;
    open.rodata.target_pid = pid;
    let mut skel = open.load()?;
    skel.attach()?;

    if check {
        std::fs::read("/etc/hostname")?;
    }
    let mut seen_own = false;
    let deadline = Instant::now() + Duration::from_secs(if check { 1 } else { 5 });
    while Instant::now() < deadline {
        skel.maps.events.wait(Some(Duration::from_millis(100)))?;
        while let Some(record) = skel.maps.events.next() {
            let Ok(event) = record.read::<open_event>() else {
                continue;
            };
            let path = text(&event.path);
            println!("{:<8} {:<16} {path}", event.pid, text(&event.comm));
            seen_own |= path == "/etc/hostname";
        }
    }
    for entry in skel.maps.opens_by_pid.iter() {
        let (pid, opens) = entry?;
        println!("pid {pid}: {opens} opens");
    }
    if check && !seen_own {
        anyhow::bail!("check failed: the tool's own open of /etc/hostname was not seen");
    }
    Ok(())
}
