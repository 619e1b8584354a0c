//! Boots the guest under qemu (TCG: KVM is not usable on the machines this runs on) and
//! streams its serial console line by line, killing qemu when the time limit passes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::arch::GuestArch;
use super::report::Ending;

/// After the guest reports it is done it powers off; this is how long qemu gets to exit.
const POWEROFF_GRACE: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub struct Boot<'a> {
    pub arch: GuestArch,
    pub kernel: &'a Path,
    pub initramfs: &'a Path,
    pub cmdline: &'a str,
    pub memory_mib: u32,
    pub cpus: u32,
    pub timeout: Duration,
}

/// Runs qemu, handing every console line to `on_line`; returns how qemu ended.
pub fn run(boot: &Boot<'_>, mut on_line: impl FnMut(&str)) -> Result<Ending, String> {
    let qemu = boot.arch.qemu();
    let mut child = Command::new(qemu)
        .args(boot.arch.machine_args())
        .args([
            "-accel",
            "tcg",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
        ])
        .args(["-serial", "stdio", "-no-reboot"])
        .args([
            "-m",
            &boot.memory_mib.to_string(),
            "-smp",
            &boot.cpus.to_string(),
        ])
        .arg("-kernel")
        .arg(boot.kernel)
        .arg("-initrd")
        .arg(boot.initramfs)
        .args(["-append", boot.cmdline])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // qemu's own complaints (bad kernel image, missing firmware) go straight to the user.
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            format!(
                "spawning {qemu}: {e} (install {})",
                boot.arch.qemu_package()
            )
        })?;
    let (sender, receiver) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                if sender
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
                line.clear();
            }
        });
    }

    let started = Instant::now();
    let mut deadline = started + boot.timeout;
    let mut done = false;
    let mut ending = Ending::Exited;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(line) => {
                if !done && line.contains("VMTEST-DONE") {
                    done = true;
                    deadline = Instant::now() + POWEROFF_GRACE;
                }
                on_line(&line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Past the deadline: kill qemu; only a timeout if the tests had not finished.
                if !done {
                    ending = Ending::TimedOut {
                        after_secs: boot.timeout.as_secs(),
                    };
                }
                let _ = child.kill();
                break;
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {qemu}: {e}"))?;
    if ending == Ending::Exited && !status.success() {
        on_line(&format!("{qemu} exited with {status}\n"));
    }
    Ok(ending)
}
