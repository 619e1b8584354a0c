//! `cargo xtask test`: every test of the workspace against this machine's kernel.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Mounts a filesystem unless something is already mounted there.
fn ensure_mounted(fstype: &str, target: &str) {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if mounts
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some(target))
    {
        return;
    }
    let _ = std::fs::create_dir_all(target);
    let status = Command::new("mount")
        .args(["-t", fstype, fstype, target])
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("warning: could not mount {fstype} at {target}");
    }
}

/// Runs a command, echoing its output and collecting the `SKIPPED` lines tests print.
fn run_collecting_skips(cmd: &mut Command, skips: &mut Vec<String>) -> Result<(), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawning {cmd:?}: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        println!("{line}");
        if let Some(pos) = line.find("SKIPPED ") {
            skips.push(line[pos..].to_string());
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    ensure_mounted("bpf", "/sys/fs/bpf");
    ensure_mounted("tracefs", "/sys/kernel/tracing");
    let mut skips = Vec::new();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(crate::workspace_root())
        .args([
            "test",
            "--workspace",
            "--exclude",
            "xtask",
            "--no-fail-fast",
        ])
        .args(args)
        .args(["--", "--nocapture"]);
    let result = run_collecting_skips(&mut cargo, &mut skips);
    println!("\n==== skipped on this kernel ({}):", skips.len());
    for skip in &skips {
        println!("{skip}");
    }
    result
}
