//! A veth pair between two network namespaces made for this run (with `ip` from iproute2),
//! removed when dropped: the example's traffic never touches the machine's own interfaces.

use std::process::Command;

use anyhow::Context;

/// The address of the sending end, in namespace `a`.
pub const ADDR_A: &str = "10.250.0.1";
/// The address of the receiving end, in namespace `b`.
pub const ADDR_B: &str = "10.250.0.2";
/// The interface in namespace `a`.
pub const IFACE_A: &str = "veth-a";
/// The interface in namespace `b`, where the program attaches.
pub const IFACE_B: &str = "veth-b";

/// Two namespaces, `a` and `b`, joined by `veth-a` ↔ `veth-b`, both up and addressed.
#[derive(Debug)]
pub struct VethPair {
    pub ns_a: String,
    pub ns_b: String,
    created: Vec<String>,
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running ip (install iproute2)")?;
    if !out.status.success() {
        anyhow::bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl VethPair {
    /// Creates `<tag>-<pid>-a` and `<tag>-<pid>-b` and the pair between them.
    pub fn create(tag: &str) -> anyhow::Result<VethPair> {
        let id = std::process::id();
        let mut pair = VethPair {
            ns_a: format!("{tag}-{id}-a"),
            ns_b: format!("{tag}-{id}-b"),
            created: Vec::new(),
        };
        for ns in [pair.ns_a.clone(), pair.ns_b.clone()] {
            ip(&["netns", "add", &ns])?;
            pair.created.push(ns);
        }
        let (a, b) = (pair.ns_a.as_str(), pair.ns_b.as_str());
        ip(&[
            "-n", a, "link", "add", IFACE_A, "type", "veth", "peer", "name", IFACE_B, "netns", b,
        ])?;
        for (ns, iface, addr) in [(a, IFACE_A, ADDR_A), (b, IFACE_B, ADDR_B)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", iface])?;
            ip(&["-n", ns, "link", "set", iface, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(pair)
    }

    /// This program run again inside namespace `ns` with `args`.
    pub fn run_in(ns: &str, args: &[String]) -> anyhow::Result<Command> {
        let exe = std::env::current_exe().context("finding this program")?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).arg(exe).args(args);
        Ok(cmd)
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        for ns in &self.created {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("cleanup: {e:#}");
            }
        }
    }
}

/// Runs this program again inside namespace `b` of a pair made for the run, with
/// `--iface veth-b --traffic-from <namespace a>` (and `--check` when asked), and removes the
/// pair afterwards. `doing` names the work in the error ("counting").
pub fn rerun_inside(tag: &str, check: bool, doing: &str) -> anyhow::Result<()> {
    let pair = VethPair::create(tag)?;
    let mut inner = vec![
        "--iface".to_owned(),
        IFACE_B.to_owned(),
        "--traffic-from".to_owned(),
        pair.ns_a.clone(),
    ];
    if check {
        inner.push("--check".to_owned());
    }
    let status = VethPair::run_in(&pair.ns_b, &inner)?.status()?;
    drop(pair);
    if status.success() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "{doing} inside the namespace failed: {status}"
        ))
    }
}
