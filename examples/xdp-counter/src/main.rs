//! Packets and bytes per IP protocol, counted by an XDP program.
//!
//! ```text
//! xdp-counter --iface eth0 [--seconds 10]   count on an interface of this machine
//! xdp-counter [--seconds 2] [--check]       on a veth pair between two namespaces made for
//!                                           the run, while one end sends UDP and TCP
//! ```
//!
//! `--check` fails unless the UDP datagrams and TCP SYNs sent were counted. Run as root.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use bpf_programs::programs::XdpFlags;

include!(concat!(env!("OUT_DIR"), "/xdp_counter.skel.rs"));

/// What the sending end sends: so many UDP datagrams and TCP connection attempts.
const UDP_DATAGRAMS: u64 = 20;
const TCP_ATTEMPTS: u64 = 5;

#[derive(Debug, Default)]
struct Args {
    iface: Option<String>,
    seconds: u64,
    check: bool,
    /// Internal: the namespace the traffic comes from.
    traffic_from: Option<String>,
    /// Internal: send the traffic to this address and exit.
    send: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 2,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--iface" => args.iface = Some(value()?),
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

fn protocol_name(protocol: u32) -> String {
    match protocol {
        0 => "IPv6 hop-by-hop".into(),
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "ICMPv6".into(),
        n => format!("protocol {n}"),
    }
}

/// The sending end: UDP datagrams to the discard port and TCP SYNs answered by resets.
fn send(to: &str) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    for i in 0..UDP_DATAGRAMS {
        socket.send_to(format!("datagram {i}").as_bytes(), (to, 9))?;
    }
    let addr: SocketAddr = format!("{to}:9").parse()?;
    for _ in 0..TCP_ATTEMPTS {
        // Refused: the SYN arrives, a reset answers.
        let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    }
    Ok(())
}

fn count(args: &Args, iface: &str) -> anyhow::Result<()> {
    let mut skel = xdp_counter::open()?.load()?;
    skel.progs
        .count_protocols
        .attach(iface, XdpFlags::default())?;
    println!("counting on {iface}…");
    match &args.traffic_from {
        Some(ns) => {
            let status =
                veth_pair::VethPair::run_in(ns, &["--send".into(), veth_pair::ADDR_B.into()])?
                    .status()?;
            if !status.success() {
                anyhow::bail!("the sending end failed: {status}");
            }
        }
        None => std::thread::sleep(Duration::from_secs(args.seconds)),
    }

    println!("\n{:<18} {:>10} {:>12}", "PROTOCOL", "PACKETS", "BYTES");
    let mut seen = [0u64; 256];
    for (protocol, per_cpu) in skel.maps.by_protocol.iter().enumerate() {
        let (packets, bytes) = per_cpu?
            .iter_values()
            .fold((0, 0), |(p, b), c| (p + c.packets, b + c.bytes));
        seen[protocol] = packets;
        if packets > 0 {
            let name = protocol_name(protocol as u32);
            println!("{name:<18} {packets:>10} {bytes:>12}");
        }
    }
    if args.check {
        if seen[17] < UDP_DATAGRAMS || seen[6] < TCP_ATTEMPTS {
            anyhow::bail!(
                "check failed: {} UDP (sent {UDP_DATAGRAMS}), {} TCP (sent {TCP_ATTEMPTS} SYNs)",
                seen[17],
                seen[6]
            );
        }
        println!("check passed: every UDP datagram and TCP SYN sent was counted");
    }
    Ok(())
}

fn run() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    if let Some(to) = &args.send {
        return send(to);
    }
    if let Some(iface) = &args.iface {
        return count(&args, iface);
    }
    // A pair of namespaces for this run; this program works inside `b`.
    veth_pair::rerun_inside("xdpc", args.check, "counting")
}

/// Errors print as a chain (`anyhow`'s `Debug`): what failed, then each cause once.
fn main() -> anyhow::Result<()> {
    run()
}
