//! Every `getaddrinfo()` call of every process using libc, with the host asked for, the result
//! and how long the lookup took: a uprobe and a uretprobe on `libc.so.6`, attached where their
//! sections say.
//!
//! ```text
//! uprobe-libc [--seconds 10] [--check]
//! ```
//!
//! `--check` looks up `localhost` itself once attached and fails unless that call is reported.
//! Run as root.

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

include!(concat!(env!("OUT_DIR"), "/uprobe_libc.skel.rs"));

use uprobe_libc::types::lookup;

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn run() -> anyhow::Result<()> {
    let mut seconds = 10;
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--seconds needs a value"))?
                    .parse()
                    .map_err(|e| anyhow::anyhow!("--seconds: {e}"))?
            }
            "--check" => {
                check = true;
                seconds = seconds.min(2);
            }
            other => {
                anyhow::bail!("unknown argument {other} (see the source's header)");
            }
        }
    }

    let mut skel = uprobe_libc::open()?.load()?;
    let attached = skel.attach()?;
    println!("attached {} to libc's getaddrinfo", attached.join(" and "));
    println!(
        "{:<8} {:<16} {:>10} {:>7}  HOST",
        "PID", "COMM", "LATENCY", "RESULT"
    );

    if check {
        // Resolved from /etc/hosts: no network needed.
        let _ = ("localhost", 0).to_socket_addrs();
    }
    let me = std::process::id();
    let mut saw_own = false;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline && !(check && saw_own) {
        skel.maps.lookups.wait(Some(Duration::from_millis(100)))?;
        while let Some(record) = skel.maps.lookups.next() {
            let Ok(l) = record.read::<lookup>() else {
                continue;
            };
            let host = text(&l.host);
            println!(
                "{:<8} {:<16} {:>8}us {:>7}  {host}",
                l.pid,
                text(&l.comm),
                l.latency_ns / 1000,
                l.result
            );
            saw_own |= l.pid == me && host == "localhost";
        }
    }
    if check {
        if !saw_own {
            anyhow::bail!("check failed: this process's lookup of localhost was not reported");
        }
        println!("check passed: this process's getaddrinfo(\"localhost\") was reported");
    }
    Ok(())
}

/// Errors print as a chain (`anyhow`'s `Debug`): what failed, then each cause once.
fn main() -> anyhow::Result<()> {
    run()
}
