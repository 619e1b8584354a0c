//! `cargo xtask test`: every test of the workspace against this machine's kernel.
//!
//! Besides echoing cargo, it records the outcome of each test of the packages the guests run
//! (`integration-tests`, `bpf-sys`, `bpf-core`) in
//! `target/host-test-summary.txt` (the layout of `target/vm-test-summaries/<release>.txt`) for
//! `cargo xtask summary`.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::vm_test::build;
use crate::vm_test::report::{self, Outcome, Report, TestResult};

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

/// Where the host results go, next to vm-test's.
pub fn summary_path() -> PathBuf {
    crate::workspace_root()
        .join("target")
        .join("host-test-summary.txt")
}

/// How libtest ended one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Failed,
    Ignored,
}

fn status_word(word: &str) -> Option<Status> {
    match word {
        "ok" => Some(Status::Ok),
        "FAILED" => Some(Status::Failed),
        // `ignored, <reason>` when the attribute gives one.
        w if w.starts_with("ignored") => Some(Status::Ignored),
        _ => None,
    }
}

/// Reads `cargo test` output (stdout and stderr merged, in order) into per-test outcomes of the
/// binaries named in `binaries` (executable file name → binary name).
#[derive(Debug, Default)]
struct HostParser {
    binaries: HashMap<String, String>,
    /// The binary cargo is running now, when it is one we record.
    current: Option<String>,
    /// A test whose `test <name> ... ` came without its status (single-threaded libtest).
    pending: Option<String>,
    statuses: Vec<(String, String, Status)>,
    /// `SKIPPED <binary>::<test>: <reason>` lines by `<binary>::<test>`.
    skips: BTreeMap<String, String>,
}

impl HostParser {
    fn feed(&mut self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(pos) = line.find("SKIPPED ") {
            let skip = line[pos..].trim();
            if let Some((path, _)) = skip["SKIPPED ".len()..].split_once(": ") {
                self.skips.insert(path.to_string(), skip.to_string());
            }
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("Running ") {
            self.pending = None;
            self.current = running_executable(trimmed).and_then(|exe| {
                let name = exe.rsplit('/').next().unwrap_or(exe);
                self.binaries.get(name).cloned()
            });
            return;
        }
        if trimmed.starts_with("Doc-tests ") {
            self.pending = None;
            self.current = None;
            return;
        }
        if let Some((left, right)) = line.rsplit_once(" ... ")
            && let Some(test_pos) = left.rfind("test ")
        {
            let name = &left[test_pos + "test ".len()..];
            if !name.is_empty() && !name.contains(' ') {
                match right.split_whitespace().next().and_then(status_word) {
                    Some(status) => self.record(name.to_string(), status),
                    // The test's own output came first; the status follows on a later line.
                    None => self.pending = Some(name.to_string()),
                }
                return;
            }
        }
        // Single-threaded libtest writes the status after the test's own output.
        if self.pending.is_some() {
            let word = line.trim_end();
            let status = ["ok", "FAILED", "ignored"]
                .into_iter()
                .find(|w| word.ends_with(w))
                .and_then(status_word);
            if let (Some(status), Some(test)) = (status, self.pending.take()) {
                self.record(test, status);
            }
        }
    }

    fn record(&mut self, test: String, status: Status) {
        self.pending = None;
        if let Some(binary) = &self.current {
            self.statuses.push((binary.clone(), test, status));
        }
    }

    /// The SKIPPED line of `test` of `binary`, which names it `<binary>::<test>`; a lower
    /// layer's binary (`bpf-sys.attach`) without its package, a unit test by its path alone.
    fn skip_of(&self, binary: &str, test: &str) -> Option<&String> {
        let target = binary.split_once('.').map_or(binary, |(_, target)| target);
        [
            format!("{binary}::{test}"),
            format!("{target}::{test}"),
            test.to_string(),
        ]
        .iter()
        .find_map(|path| self.skips.get(path))
    }

    /// The outcomes; an `ok` test that printed its SKIPPED line was skipped.
    fn results(&self) -> Vec<TestResult> {
        self.statuses
            .iter()
            .map(|(binary, test, status)| {
                let outcome = match status {
                    Status::Ok => match self.skip_of(binary, test) {
                        Some(skip) => Outcome::Skip(skip.clone()),
                        None => Outcome::Pass,
                    },
                    Status::Failed => Outcome::Fail("test failed".to_string()),
                    Status::Ignored => Outcome::Fail(report::IGNORE_NOT_ALLOWED.to_string()),
                };
                TestResult {
                    binary: binary.clone(),
                    test: test.clone(),
                    outcome,
                    output: Vec::new(),
                    seconds: 0.0,
                }
            })
            .collect()
    }
}

/// `Running tests/xdp.rs (target/debug/deps/xdp-0123)` → `target/debug/deps/xdp-0123`.
fn running_executable(line: &str) -> Option<&str> {
    let open = line.rfind('(')?;
    let close = line.rfind(')')?;
    line.get(open + 1..close)
}

/// Builds the tests once with JSON messages to learn which executables belong to the packages
/// the guests run, under the names the guests give them.
fn integration_binaries(cargo_args: &[String]) -> HashMap<String, String> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(crate::workspace_root())
        .args(["test", "--workspace", "--exclude", "xtask", "--no-run"])
        .arg("--message-format=json-render-diagnostics")
        .args(cargo_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let Ok(mut child) = cargo.spawn() else {
        return HashMap::new();
    };
    let packages = build::DEFAULT_PACKAGES.map(String::from);
    let mut binaries = HashMap::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(binary) = build::test_executable(&line, &packages)
                && let Some(file) = binary.path.file_name()
            {
                binaries.insert(file.to_string_lossy().into_owned(), binary.name);
            }
        }
    }
    let _ = child.wait();
    binaries
}

/// Runs a command with stdout and stderr merged (so cargo's `Running` lines stay in order),
/// echoing and parsing every line.
fn run_parsing(mut cmd: Command, parser: &mut HostParser) -> Result<(), String> {
    let (reader, writer) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let writer_for_stderr = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
    let mut child = cmd
        .stdout(writer)
        .stderr(writer_for_stderr)
        .spawn()
        .map_err(|e| format!("spawning {cmd:?}: {e}"))?;
    // The command's copies of the write end must close for the reader to see the end.
    drop(cmd);
    for line in BufReader::new(reader).lines().map_while(Result::ok) {
        println!("{line}");
        parser.feed(&line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed: {status}"))
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    ensure_mounted("bpf", "/sys/fs/bpf");
    ensure_mounted("tracefs", "/sys/kernel/tracing");
    // smoke_bpf_lsm_is_active reads the active LSMs from /sys/kernel/security/lsm.
    ensure_mounted("securityfs", "/sys/kernel/security");
    let started = Instant::now();
    // A summary always describes this run.
    let _ = std::fs::remove_file(summary_path());
    let (cargo_args, test_args) = match args.iter().position(|a| a == "--") {
        Some(pos) => (&args[..pos], &args[pos + 1..]),
        None => (args, &[][..]),
    };
    let mut parser = HostParser {
        binaries: integration_binaries(cargo_args),
        ..HostParser::default()
    };
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
        .args(cargo_args)
        .args(["--", "--nocapture"])
        .args(test_args);
    let result = run_parsing(cargo, &mut parser);
    println!("\n==== skipped on this kernel ({}):", parser.skips.len());
    for skip in parser.skips.values() {
        println!("{skip}");
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| r.trim().to_string())
        .ok();
    let report = Report {
        kernel,
        results: parser.results(),
        run_failures: result.as_ref().err().cloned().into_iter().collect(),
        warnings: Vec::new(),
    };
    let arch = std::env::consts::ARCH;
    let summary = report
        .summary(started.elapsed().as_secs_f64(), arch)
        .replacen("vm-test on", "cargo xtask test on", 1)
        .replacen(
            &format!(" (qemu {arch}, TCG)"),
            &format!(" (host {arch})"),
            1,
        );
    let path = summary_path();
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(&crate::workspace_root()));
    if let Err(e) = std::fs::write(&path, summary) {
        eprintln!("warning: {}: {e}", path.display());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(output: &str) -> Vec<(String, String, String)> {
        let mut parser = HostParser {
            binaries: HashMap::from([
                ("net_xdp-0123".to_string(), "net_xdp".to_string()),
                ("smoke-4567".to_string(), "smoke".to_string()),
                ("attach-89ab".to_string(), "bpf-sys.attach".to_string()),
                (
                    "bpf_sys-cdef".to_string(),
                    "bpf-sys.bpf_sys-lib".to_string(),
                ),
            ]),
            ..HostParser::default()
        };
        for line in output.lines() {
            parser.feed(line);
        }
        parser
            .results()
            .into_iter()
            .map(|r| {
                let detail = match r.outcome {
                    Outcome::Pass => "pass".to_string(),
                    Outcome::Skip(line) => line,
                    Outcome::Fail(_) => "fail".to_string(),
                };
                (r.binary, r.test, detail)
            })
            .collect()
    }

    fn row(binary: &str, test: &str, detail: &str) -> (String, String, String) {
        (binary.to_string(), test.to_string(), detail.to_string())
    }

    #[test]
    fn outcomes_of_integration_binaries_only() {
        let output = "\
     Running unittests src/lib.rs (target/debug/deps/bpf_core-89ab)
test btf::tests::parses ... ok
     Running tests/net_xdp.rs (target/debug/deps/net_xdp-0123)

running 3 tests
SKIPPED net_xdp::xdp_native_on_veth: no veth driver
test xdp_native_on_veth ... ok
test xdp_generic_on_lo ... ok
test xdp_drop_counts ... FAILED
   Doc-tests bpf_core
test src/lib.rs - doc (line 3) ... ok
";
        assert_eq!(
            parse(output),
            [
                row(
                    "net_xdp",
                    "xdp_native_on_veth",
                    "SKIPPED net_xdp::xdp_native_on_veth: no veth driver"
                ),
                row("net_xdp", "xdp_generic_on_lo", "pass"),
                row("net_xdp", "xdp_drop_counts", "fail"),
            ]
        );
    }

    #[test]
    fn lower_layers_skip_lines_name_their_target_or_test_path() {
        let output = "\
     Running tests/attach.rs (target/debug/deps/attach-89ab)
SKIPPED attach::kprobe_fires: no kprobe PMU
test kprobe_fires ... ok
test uprobe_fires ... ok
     Running unittests src/lib.rs (target/debug/deps/bpf_sys-cdef)
SKIPPED file_map::tests::maps_btf: no BTF
test file_map::tests::maps_btf ... ok
";
        assert_eq!(
            parse(output),
            [
                row(
                    "bpf-sys.attach",
                    "kprobe_fires",
                    "SKIPPED attach::kprobe_fires: no kprobe PMU"
                ),
                row("bpf-sys.attach", "uprobe_fires", "pass"),
                row(
                    "bpf-sys.bpf_sys-lib",
                    "file_map::tests::maps_btf",
                    "SKIPPED file_map::tests::maps_btf: no BTF"
                ),
            ]
        );
    }

    #[test]
    fn interleaved_output_is_tolerated() {
        // Unterminated test output before the result, a SKIPPED line after its test's result,
        // and single-threaded libtest writing the status after the output.
        let output = "\
     Running tests/smoke.rs (target/debug/deps/smoke-4567)
partial outputtest smoke_a ... ok
test smoke_b ... ok
SKIPPED smoke::smoke_b: no kprobe PMU
test smoke_c ... SKIPPED smoke::smoke_c: no lsm
ok
test smoke_d ... 
still runningFAILED
test smoke_e ... ignored, needs hardware
";
        assert_eq!(
            parse(output),
            [
                row("smoke", "smoke_a", "pass"),
                row("smoke", "smoke_b", "SKIPPED smoke::smoke_b: no kprobe PMU"),
                row("smoke", "smoke_c", "SKIPPED smoke::smoke_c: no lsm"),
                row("smoke", "smoke_d", "fail"),
                row("smoke", "smoke_e", "fail"),
            ]
        );
    }
}
