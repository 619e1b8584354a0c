//! Parses the guest's serial console into per-test results and renders the summary.
//!
//! The guest's init script brackets every test with marker lines (see `xtask/vm/init`):
//! `VMTEST-BOOT <release>`, `VMTEST-BEGIN <binary> <test>`, `VMTEST-END <binary> <test> <status>`,
//! `VMTEST-IGNORED <binary> <test>`, `VMTEST-RESULT <binary> <status>`, `VMTEST-WARN <text>` and finally `VMTEST-DONE`.
//! Markers may follow unterminated test output on the same line, so they are searched anywhere.
//!
//! A test passes only when its process exited 0 *and* libtest reported it passed (a binary
//! that matched no test exits 0 too), the kernel logged no warning or bug while it ran, and it
//! was not marked `#[ignore]` (which the project does not allow).

use std::collections::BTreeMap;
use std::fmt::Write as _;

const MARKER: &str = "VMTEST-";
const KERNEL_PANIC: &str = "Kernel panic - not syncing";
/// Kernel log lines that mean a test made the kernel complain (the guest appends `dmesg` to
/// each test's output); such a test fails: a BPF library must never make the kernel WARN.
const KERNEL_SPLATS: &[&str] = &[
    "WARNING: CPU:",
    "BUG:",
    "Oops:",
    "general protection fault",
    "UBSAN:",
];

/// libtest's summary line for a process that ran exactly one test and it passed.
const ONE_PASSED: &str = "test result: ok. 1 passed;";

/// Why a test marked `#[ignore]` fails the run.
pub const IGNORE_NOT_ALLOWED: &str =
    "marked #[ignore], which this project does not allow: skip at run time with a SKIPPED line";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The test printed `SKIPPED <path>: <reason>`; holds that line.
    Skip(String),
    Fail(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Skip(_) => "skip",
            Outcome::Fail(_) => "FAIL",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    pub binary: String,
    pub test: String,
    pub outcome: Outcome,
    /// Console lines the test printed (stdout and stderr interleaved).
    pub output: Vec<String>,
    /// Wall-clock seconds on the host from the test's begin marker to its end.
    pub seconds: f64,
}

/// The test between a begin marker and its end marker.
#[derive(Debug)]
struct OpenTest {
    binary: String,
    test: String,
    output: Vec<String>,
    started: f64,
}

/// How the qemu process ended, as seen by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited,
    TimedOut { after_secs: u64 },
}

#[derive(Debug, Default)]
pub struct ConsoleParser {
    kernel: Option<String>,
    results: Vec<TestResult>,
    current: Option<OpenTest>,
    /// Host seconds since boot at the line being parsed.
    now: f64,
    warnings: Vec<String>,
    panic: Option<String>,
    done: bool,
}

/// What a finished run amounts to.
#[derive(Debug)]
pub struct Report {
    pub kernel: Option<String>,
    pub results: Vec<TestResult>,
    /// Problems not tied to one test: a test never reported, a panic, a timeout.
    pub run_failures: Vec<String>,
    pub warnings: Vec<String>,
}

impl ConsoleParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes one console line that arrived `seconds` after qemu started; returns the line
    /// to show the user live, if any.
    pub fn feed_at(&mut self, line: &str, seconds: f64) -> Option<String> {
        self.now = seconds;
        let line = line.trim_end_matches(['\r', '\n']);
        if self.panic.is_none() && line.contains(KERNEL_PANIC) {
            self.panic = Some(line.trim().to_string());
            return Some(format!("guest: {}", line.trim()));
        }
        let Some(pos) = line.find(MARKER) else {
            self.record_output(line);
            return None;
        };
        let (before, marker) = line.split_at(pos);
        if !before.trim().is_empty() {
            self.record_output(before);
        }
        self.marker(marker)
    }

    fn record_output(&mut self, line: &str) {
        if let Some(open) = &mut self.current {
            open.output.push(line.to_string());
        }
    }

    fn marker(&mut self, marker: &str) -> Option<String> {
        let mut words = marker.split_whitespace();
        let kind = words.next().unwrap_or_default();
        let words: Vec<&str> = words.collect();
        match (kind, words.as_slice()) {
            ("VMTEST-BOOT", [release, ..]) => {
                self.kernel = Some((*release).to_string());
                Some(format!("guest booted kernel {release}"))
            }
            ("VMTEST-BEGIN", [binary, test]) => {
                self.abandon_current("the next test began before this one ended");
                self.current = Some(OpenTest {
                    binary: (*binary).to_string(),
                    test: (*test).to_string(),
                    output: Vec::new(),
                    started: self.now,
                });
                None
            }
            ("VMTEST-END", [binary, test, status]) => {
                let open = match self.current.take() {
                    Some(open) if open.binary == *binary && open.test == *test => open,
                    other => {
                        self.current = other;
                        self.abandon_current("its end marker never came");
                        OpenTest {
                            binary: (*binary).to_string(),
                            test: (*test).to_string(),
                            output: Vec::new(),
                            started: self.now,
                        }
                    }
                };
                let outcome = match (outcome_of(status, &open.output), kernel_splat(&open.output)) {
                    (Outcome::Fail(why), _) => Outcome::Fail(why),
                    (_, Some(splat)) => {
                        Outcome::Fail(format!("the kernel complained during the test: {splat}"))
                    }
                    (outcome, None) => outcome,
                };
                Some(self.push(open, outcome))
            }
            ("VMTEST-IGNORED", [binary, test]) => {
                let open = OpenTest {
                    binary: (*binary).to_string(),
                    test: (*test).to_string(),
                    output: Vec::new(),
                    started: self.now,
                };
                Some(self.push(open, Outcome::Fail(IGNORE_NOT_ALLOWED.to_string())))
            }
            ("VMTEST-RESULT", [_binary, _status]) => None,
            ("VMTEST-WARN", text) => {
                let warning = text.join(" ");
                self.warnings.push(warning.clone());
                Some(format!("warning: {warning}"))
            }
            ("VMTEST-DONE", _) => {
                self.abandon_current("its end marker never came");
                self.done = true;
                None
            }
            _ => {
                self.record_output(marker);
                None
            }
        }
    }

    fn abandon_current(&mut self, why: &str) {
        if let Some(open) = self.current.take() {
            self.push(open, Outcome::Fail(why.to_string()));
        }
    }

    fn push(&mut self, open: OpenTest, outcome: Outcome) -> String {
        let OpenTest {
            binary,
            test,
            output,
            started,
        } = open;
        let line = match &outcome {
            Outcome::Pass => format!("ok      {binary}/{test}"),
            Outcome::Skip(skip) => format!("skip    {binary}/{test}: {skip}"),
            Outcome::Fail(why) => format!("FAILED  {binary}/{test}: {why}"),
        };
        self.results.push(TestResult {
            binary,
            test,
            outcome,
            output,
            seconds: self.now - started,
        });
        line
    }

    /// Closes the run; a test still open when the guest stopped fails.
    pub fn finish(mut self, ending: Ending) -> Report {
        let mut run_failures = Vec::new();
        if let Some(panic) = self.panic.clone() {
            self.abandon_current("the guest kernel panicked during this test");
            run_failures.push(format!("guest kernel panicked: {panic}"));
        }
        if let Ending::TimedOut { after_secs } = ending {
            self.abandon_current("the guest timed out during this test");
            run_failures.push(format!(
                "the guest did not finish within {after_secs} s; qemu was killed"
            ));
        }
        self.abandon_current("the guest stopped during this test");
        if !self.done && self.panic.is_none() && ending == Ending::Exited {
            run_failures.push("the guest stopped before reporting that all tests ran".to_string());
        }
        if self.kernel.is_none() {
            run_failures.push("the guest never reported that it booted".to_string());
        } else if self.done && self.results.is_empty() {
            run_failures.push("the guest ran no tests".to_string());
        }
        Report {
            kernel: self.kernel,
            results: self.results,
            run_failures,
            warnings: self.warnings,
        }
    }
}

/// The first kernel log line of `output` (timestamped, as `dmesg` prints it) reporting a warning,
/// bug or oops.
fn kernel_splat(output: &[String]) -> Option<&str> {
    output.iter().map(|line| line.trim()).find(|line| {
        line.starts_with('[')
            && line.contains(']')
            && KERNEL_SPLATS.iter().any(|splat| line.contains(splat))
    })
}

fn outcome_of(status: &str, output: &[String]) -> Outcome {
    let skip = output.iter().find_map(|line| {
        line.find("SKIPPED ")
            .map(|pos| line[pos..].trim().to_string())
    });
    match status.parse::<i32>() {
        Ok(0) if !output.iter().any(|line| line.contains(ONE_PASSED)) => Outcome::Fail(format!(
            "exit status 0 but no `{ONE_PASSED}` line: no test ran"
        )),
        Ok(0) => skip.map_or(Outcome::Pass, Outcome::Skip),
        Ok(101) => Outcome::Fail("test failed (exit status 101)".to_string()),
        // The guest runs each test under `timeout -s KILL`; the shell reports 128 + signal.
        Ok(137) => Outcome::Fail("killed: per-test timeout (SIGKILL)".to_string()),
        Ok(code) if code > 128 => Outcome::Fail(format!("killed by signal {}", code - 128)),
        Ok(code) => Outcome::Fail(format!("exit status {code}")),
        Err(_) => Outcome::Fail(format!("unreadable exit status {status:?}")),
    }
}

impl Report {
    /// Fails the run for every test of `binary` the host listed but the guest never reported.
    pub fn require_all(&mut self, binary: &str, tests: &[String]) {
        let missing: Vec<&str> = tests
            .iter()
            .filter(|test| {
                !self
                    .results
                    .iter()
                    .any(|r| r.binary == binary && &r.test == *test)
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let failure = format!("{binary}: the guest never reported {}", missing.join(", "));
            self.run_failures.push(failure);
        }
    }

    pub fn failed(&self) -> bool {
        !self.run_failures.is_empty()
            || self
                .results
                .iter()
                .any(|r| matches!(r.outcome, Outcome::Fail(_)))
    }

    fn count(&self, label: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.label() == label)
            .count()
    }

    /// The table printed at the end and written to `target/vm-test-summaries/<release>.txt`.
    /// The summary file's text; `arch` is the guest's (`x86_64`, `aarch64`).
    pub fn summary(&self, elapsed_secs: f64, arch: &str) -> String {
        let kernel = self.kernel.as_deref().unwrap_or("unknown kernel");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "vm-test on {kernel} (qemu {arch}, TCG): {} passed, {} skipped, {} failed in {elapsed_secs:.1} s",
            self.count("pass"),
            self.count("skip"),
            self.count("FAIL"),
        );
        let mut groups: BTreeMap<String, [usize; 3]> = BTreeMap::new();
        for result in &self.results {
            let counts = groups
                .entry(program_type(&result.binary, &result.test))
                .or_default();
            let slot = match result.outcome {
                Outcome::Pass => 0,
                Outcome::Skip(_) => 1,
                Outcome::Fail(_) => 2,
            };
            counts[slot] += 1;
        }
        let _ = writeln!(out, "\nper program type:");
        let _ = writeln!(
            out,
            "  {:<20} {:>5} {:>5} {:>5}",
            "type", "pass", "skip", "fail"
        );
        for (group, [pass, skip, fail]) in &groups {
            let _ = writeln!(out, "  {group:<20} {pass:>5} {skip:>5} {fail:>5}");
        }
        let width = self
            .results
            .iter()
            .map(|r| r.binary.len() + r.test.len() + 1)
            .max()
            .unwrap_or(4);
        let _ = writeln!(out, "\nper test:");
        for result in &self.results {
            let name = format!("{}/{}", result.binary, result.test);
            let detail = match &result.outcome {
                Outcome::Pass => String::new(),
                Outcome::Skip(line) => line.clone(),
                Outcome::Fail(why) => why.clone(),
            };
            let row = format!(
                "  {name:<width$}  {:<7} {:>6.2}s  {detail}",
                result.outcome.label(),
                result.seconds
            );
            let _ = writeln!(out, "{}", row.trim_end());
        }
        for failure in &self.run_failures {
            let _ = writeln!(out, "\nRUN FAILED: {failure}");
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        out
    }
}

/// Program types as they begin test names (`<program_type>_...`), longest first where one
/// is a prefix of another.
const PROGRAM_TYPES: &[&str] = &[
    "socket_filter",
    "kprobe_multi",
    "kretprobe",
    "kprobe",
    "uprobe_multi",
    "uretprobe",
    "uprobe",
    "usdt",
    "raw_tracepoint",
    "tracepoint",
    "tp_btf",
    "fentry",
    "fexit",
    "fmod_ret",
    "freplace",
    "lsm",
    "struct_ops",
    "perf_event",
    "xdp",
    "tcx",
    "netkit",
    "tc",
    "sched_cls",
    "sched_act",
    "cgroup_skb",
    "cgroup_sock_addr",
    "cgroup_sockopt",
    "cgroup_sock",
    "cgroup_sysctl",
    "cgroup_device",
    "sock_ops",
    "sk_msg",
    "sk_skb",
    "sk_lookup",
    "sk_reuseport",
    "flow_dissector",
    "iter",
    "netfilter",
    "syscall",
    "lirc_mode2",
    "lwt",
];

fn known_prefix(name: &str) -> Option<&'static str> {
    PROGRAM_TYPES.iter().copied().find(|ty| {
        name.strip_prefix(ty)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
    })
}

/// The program type a test covers: a known type beginning its name (module path included),
/// else one naming its binary (`prog_xdp`, `xdp`), else the binary itself (`map_hash`).
pub fn program_type(binary: &str, test: &str) -> String {
    let flat = test.replace("::", "_");
    let binary_type = binary.strip_prefix("prog_").unwrap_or(binary);
    known_prefix(&flat)
        .or_else(|| known_prefix(binary_type))
        .unwrap_or(binary)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(console: &str, ending: Ending) -> Report {
        let mut parser = ConsoleParser::new();
        for line in console.lines() {
            parser.feed_at(line, 0.0);
        }
        parser.finish(ending)
    }

    const HAPPY: &str = "\
[    0.000000] Linux version 6.1.0-56-amd64
VMTEST-BOOT 6.1.0-56-amd64\r
VMTEST-BEGIN smoke smoke_btf

running 1 test
test smoke_btf ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.01s
VMTEST-END smoke smoke_btf 0
VMTEST-BEGIN smoke kprobe_attach_fires
test kprobe_attach_fires ... SKIPPED smoke::kprobe_attach_fires: no kprobe PMU
ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.01s
VMTEST-END smoke kprobe_attach_fires 0
VMTEST-RESULT smoke 0
VMTEST-DONE
";

    /// One test `b/t` that printed `output` and exited with `status`.
    fn one_test(output: &str, status: i32) -> Report {
        parse(
            &format!(
                "VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\n{output}\nVMTEST-END b t {status}\nVMTEST-DONE\n"
            ),
            Ending::Exited,
        )
    }

    const PASSED: &str =
        "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out";

    #[test]
    fn passes_and_skips_are_told_apart() {
        let report = parse(HAPPY, Ending::Exited);
        assert_eq!(report.kernel.as_deref(), Some("6.1.0-56-amd64"));
        let outcomes: Vec<_> = report
            .results
            .iter()
            .map(|r| (r.test.as_str(), r.outcome.clone()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("smoke_btf", Outcome::Pass),
                (
                    "kprobe_attach_fires",
                    Outcome::Skip("SKIPPED smoke::kprobe_attach_fires: no kprobe PMU".into())
                ),
            ]
        );
        assert!(!report.failed(), "{:?}", report.run_failures);
    }

    #[test]
    fn a_process_that_ran_no_test_fails() {
        let report = one_test(
            "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 7 filtered out",
            0,
        );
        assert!(report.failed());
        assert!(
            matches!(&report.results[0].outcome, Outcome::Fail(why) if why.contains("no test ran")),
            "{:?}",
            report.results[0].outcome
        );
        assert_eq!(one_test(PASSED, 0).results[0].outcome, Outcome::Pass);
    }

    #[test]
    fn ignored_tests_fail() {
        let console = "VMTEST-BOOT 6.1\nVMTEST-IGNORED smoke smoke_slow\nVMTEST-DONE\n";
        let report = parse(console, Ending::Exited);
        assert!(report.failed());
        assert_eq!(
            report.results[0].outcome,
            Outcome::Fail(IGNORE_NOT_ALLOWED.to_string())
        );
    }

    #[test]
    fn failing_test_fails_the_run_and_keeps_its_output() {
        let console = "VMTEST-BOOT 6.1\nVMTEST-BEGIN smoke smoke_x\nthread panicked at smoke.rs:3\n\
                       VMTEST-END smoke smoke_x 101\nVMTEST-DONE\n";
        let report = parse(console, Ending::Exited);
        assert!(report.failed());
        assert!(matches!(report.results[0].outcome, Outcome::Fail(_)));
        assert_eq!(report.results[0].output, ["thread panicked at smoke.rs:3"]);
    }

    #[test]
    fn marker_after_unterminated_output_is_found() {
        let console = format!(
            "VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\n{PASSED}\nno newline hereVMTEST-END b t 0\nVMTEST-DONE\n"
        );
        let report = parse(&console, Ending::Exited);
        assert_eq!(report.results[0].outcome, Outcome::Pass);
        assert_eq!(report.results[0].output, [PASSED, "no newline here"]);
    }

    #[test]
    fn skip_with_nonzero_status_is_a_failure() {
        let console =
            "VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\nSKIPPED t: x\nVMTEST-END b t 101\nVMTEST-DONE\n";
        assert!(matches!(
            parse(console, Ending::Exited).results[0].outcome,
            Outcome::Fail(_)
        ));
    }

    #[test]
    fn timeout_kill_is_reported() {
        let console = "VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\nVMTEST-END b t 137\nVMTEST-DONE\n";
        let report = parse(console, Ending::Exited);
        assert_eq!(
            report.results[0].outcome,
            Outcome::Fail("killed: per-test timeout (SIGKILL)".into())
        );
    }

    #[test]
    fn kernel_panic_fails_the_open_test_and_the_run() {
        let console = "VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\n[ 3.1] Kernel panic - not syncing: Fatal exception\n";
        let report = parse(console, Ending::Exited);
        assert!(report.failed());
        assert!(
            matches!(&report.results[0].outcome, Outcome::Fail(why) if why.contains("panicked"))
        );
        assert!(
            report
                .run_failures
                .iter()
                .any(|f| f.contains("Fatal exception"))
        );
    }

    #[test]
    fn guest_that_never_finishes_fails() {
        let report = parse(
            "VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\n",
            Ending::TimedOut { after_secs: 5 },
        );
        assert!(report.failed());
        assert!(report.run_failures.iter().any(|f| f.contains("within 5 s")));
        let silent = parse("SeaBIOS\n", Ending::Exited);
        assert!(
            silent
                .run_failures
                .iter()
                .any(|f| f.contains("never reported"))
        );
    }

    #[test]
    fn guest_that_stops_without_done_fails() {
        let report = parse(
            &format!("VMTEST-BOOT 6.1\nVMTEST-BEGIN b t\n{PASSED}\nVMTEST-END b t 0\n"),
            Ending::Exited,
        );
        assert!(report.failed());
        assert_eq!(report.results[0].outcome, Outcome::Pass);
    }

    #[test]
    fn durations_come_from_arrival_times() {
        let mut parser = ConsoleParser::new();
        parser.feed_at("VMTEST-BOOT 6.1", 4.0);
        parser.feed_at("VMTEST-BEGIN b t", 5.0);
        parser.feed_at("VMTEST-END b t 0", 7.5);
        parser.feed_at("VMTEST-DONE", 8.0);
        let report = parser.finish(Ending::Exited);
        assert_eq!(report.results[0].seconds, 2.5);
        assert!(report.summary(8.0, "x86_64").contains("  2.50s"));
    }

    #[test]
    fn kernel_warnings_during_a_test_fail_it() {
        let splat = "[ 9.1] WARNING: CPU: 1 PID: 80 at kernel/bpf/x.c:3";
        let report = one_test(&format!("{PASSED}\n{splat}"), 0);
        assert!(report.failed());
        assert_eq!(
            report.results[0].outcome,
            Outcome::Fail(format!("the kernel complained during the test: {splat}"))
        );
        // The test's own words are not the kernel's.
        let report = one_test(&format!("{PASSED}\nasserting that no BUG: appears"), 0);
        assert_eq!(report.results[0].outcome, Outcome::Pass);
    }

    #[test]
    fn tests_the_guest_never_reported_fail_the_run() {
        let mut report = parse(HAPPY, Ending::Exited);
        report.require_all(
            "smoke",
            &["smoke_btf".to_string(), "kprobe_attach_fires".to_string()],
        );
        assert!(!report.failed());
        report.require_all(
            "smoke",
            &["smoke_btf".to_string(), "smoke_lost".to_string()],
        );
        assert!(report.failed());
        assert_eq!(
            report.run_failures,
            ["smoke: the guest never reported smoke_lost"]
        );
    }

    #[test]
    fn run_without_tests_fails() {
        assert!(parse("VMTEST-BOOT 6.1\nVMTEST-DONE\n", Ending::Exited).failed());
    }

    #[test]
    fn program_type_comes_from_the_test_name_or_binary() {
        assert_eq!(
            program_type("smoke", "cgroup_sock_addr_connect4_fires"),
            "cgroup_sock_addr"
        );
        assert_eq!(program_type("smoke", "cgroup_sock_create"), "cgroup_sock");
        assert_eq!(program_type("t", "kprobe_multi_attach"), "kprobe_multi");
        assert_eq!(program_type("t", "kprobes_are_fine"), "t");
        assert_eq!(program_type("t", "xdp::generic_on_lo"), "xdp");
        assert_eq!(program_type("tc", "clsact_attach"), "tc");
        assert_eq!(program_type("smoke", "smoke_btf"), "smoke");
        assert_eq!(program_type("prog_uprobe", "attach_by_name"), "uprobe");
        assert_eq!(program_type("map_hash", "insert_get_remove"), "map_hash");
    }

    #[test]
    fn summary_lists_every_test_and_program_type() {
        let report = parse(HAPPY, Ending::Exited);
        let summary = report.summary(1.5, "x86_64");
        assert!(
            summary.contains("1 passed, 1 skipped, 0 failed in"),
            "{summary}"
        );
        assert!(summary.contains("smoke/kprobe_attach_fires"), "{summary}");
        let kprobe_row = summary
            .lines()
            .find(|l| l.trim_start().starts_with("kprobe "))
            .unwrap_or_default();
        assert_eq!(
            kprobe_row.split_whitespace().collect::<Vec<_>>(),
            ["kprobe", "0", "1", "0"]
        );
    }
}
