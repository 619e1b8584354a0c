//! A tc ingress classifier: UDP datagrams to one port are dropped before any socket sees them;
//! every verdict is counted per protocol and destination port.
//!
//! ```text
//! tc-classifier --iface eth0 --block 53 [--seconds 10]   on an interface of this machine
//! tc-classifier [--check]                                on a veth pair between two
//!                                                         namespaces made for the run
//! ```
//!
//! In the namespaces, sockets listen on an allowed and a blocked port while the other end sends
//! to both; `--check` fails unless every datagram to the allowed port arrived, none to the
//! blocked one did, and the map counted both. Run as root.

use std::net::UdpSocket;
use std::time::Duration;

use bpf_programs::programs::TcAttachType;

include!(concat!(env!("OUT_DIR"), "/tc_classifier.skel.rs"));

use tc_classifier::types::verdict;

const ALLOWED_PORT: u16 = 7777;
const BLOCKED_PORT: u16 = 9999;
const DATAGRAMS: u64 = 10;

#[derive(Debug, Default)]
struct Args {
    iface: Option<String>,
    block: u16,
    seconds: u64,
    check: bool,
    traffic_from: Option<String>,
    send: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        block: BLOCKED_PORT,
        seconds: 2,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--iface" => args.iface = Some(value()?),
            "--block" => args.block = value()?.parse().map_err(|e| format!("--block: {e}"))?,
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--check" => args.check = true,
            "--traffic-from" => args.traffic_from = Some(value()?),
            "--send" => args.send = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other} (see the source's header)"
                ));
            }
        }
    }
    Ok(args)
}

/// The sending end: datagrams to the allowed and the blocked port.
fn send(to: &str) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    for i in 0..DATAGRAMS {
        for port in [ALLOWED_PORT, BLOCKED_PORT] {
            socket.send_to(format!("datagram {i}").as_bytes(), (to, port))?;
        }
    }
    Ok(())
}

/// Datagrams waiting on `socket` (it has a read timeout).
fn drain(socket: &UdpSocket) -> u64 {
    let mut buf = [0u8; 64];
    let mut n = 0;
    while socket.recv(&mut buf).is_ok() {
        n += 1;
    }
    n
}

fn classify(args: &Args, iface: &str) -> anyhow::Result<()> {
    let mut open = tc_classifier::open()?;
    open.rodata.blocked_port = args.block;
    let mut skel = open.load()?;
    skel.progs.classify.attach(iface, TcAttachType::Ingress)?;
    println!(
        "classifying on {iface} ingress, dropping UDP to port {}…",
        skel.rodata.blocked_port()
    );

    let mut received = None;
    match &args.traffic_from {
        Some(ns) => {
            let mut sockets = Vec::new();
            for port in [ALLOWED_PORT, BLOCKED_PORT] {
                let socket = UdpSocket::bind(("0.0.0.0", port))?;
                socket.set_read_timeout(Some(Duration::from_millis(200)))?;
                sockets.push(socket);
            }
            let status =
                veth_pair::VethPair::run_in(ns, &["--send".into(), veth_pair::ADDR_B.into()])?
                    .status()?;
            if !status.success() {
                anyhow::bail!("the sending end failed: {status}");
            }
            received = Some((drain(&sockets[0]), drain(&sockets[1])));
        }
        None => std::thread::sleep(Duration::from_secs(args.seconds)),
    }

    let mut rows = Vec::new();
    for entry in skel.maps.verdicts.iter() {
        let (key, count) = entry?;
        rows.push((
            key.port,
            key.protocol,
            verdict(u32::from(key.verdict)),
            count,
        ));
    }
    rows.sort_unstable_by_key(|row| (row.0, row.1, row.2.0));
    println!(
        "\n{:<8} {:<6} {:<8} {:>8}",
        "PORT", "PROTO", "VERDICT", "PACKETS"
    );
    for (port, protocol, v, count) in &rows {
        let protocol = if *protocol == 17 { "UDP" } else { "TCP" };
        let v = if *v == verdict::VERDICT_DROP {
            "drop"
        } else {
            "pass"
        };
        println!("{port:<8} {protocol:<6} {v:<8} {count:>8}");
    }
    if let Some((allowed, blocked)) = received {
        println!("\nreceived: {allowed} on port {ALLOWED_PORT}, {blocked} on port {BLOCKED_PORT}");
        if args.check {
            let counted = |port, v| {
                rows.iter()
                    .find(|r| r.0 == port && r.1 == 17 && r.2 == v)
                    .map_or(0, |r| r.3)
            };
            let ok = allowed == DATAGRAMS
                && blocked == 0
                && counted(ALLOWED_PORT, verdict::VERDICT_PASS) >= DATAGRAMS
                && counted(BLOCKED_PORT, verdict::VERDICT_DROP) == DATAGRAMS;
            if !ok {
                anyhow::bail!("check failed: see the counts above");
            }
            println!("check passed: the blocked port got nothing, the allowed one everything");
        }
    }
    Ok(())
}

fn run() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    if let Some(to) = &args.send {
        return send(to);
    }
    if let Some(iface) = &args.iface {
        return classify(&args, iface);
    }
    // A pair of namespaces for this run; this program works inside `b`.
    veth_pair::rerun_inside("tccl", args.check, "classifying")
}

/// Errors print as a chain (`anyhow`'s `Debug`): what failed, then each cause once.
fn main() -> anyhow::Result<()> {
    run()
}
