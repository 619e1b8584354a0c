//! `cargo xtask summary`: one table of per-program-type results with a column per kernel (the
//! host, each guest kernel: Debian's by version, the lirc kernel, arm64), read from the files
//! `cargo xtask test` and `cargo xtask vm-test` leave in `target/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::vm_test::report::program_type;

/// One test's row of a summary file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    binary: String,
    test: String,
    /// `pass`, `skip` or `FAIL`, as the file spells it.
    label: String,
    /// The SKIPPED line or the failure's cause.
    detail: String,
}

/// What a summary file says about one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    NotRun(String),
    Ran {
        kernel: String,
        /// The machine it ran on, as the header says (`(qemu aarch64, TCG)`, `(host x86_64)`).
        arch: Option<String>,
        rows: Vec<Row>,
    },
}

/// The column title of a run on `kernel`: `5.10`, `6.12`, `lirc 6.1` (the kernel
/// `cargo xtask build-kernel` makes), `arm64 6.1`.
fn column_label(kernel: &str, arch: Option<&str>) -> String {
    let version: Vec<String> = kernel
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .map(str::to_string)
        .collect();
    let version = version.join(".");
    if arch == Some("aarch64") {
        format!("arm64 {version}")
    } else if kernel.contains("-lirc") {
        format!("lirc {version}")
    } else {
        version
    }
}

/// Where a guest's column goes: Debian's x86 kernels oldest first, then the lirc kernel, then
/// other architectures.
fn column_order(kernel: &str, arch: Option<&str>) -> (u8, Vec<u64>) {
    let class = match arch {
        Some("aarch64") => 2,
        _ if kernel.contains("-lirc") => 1,
        _ => 0,
    };
    (class, version_key(kernel))
}

/// The first whitespace-separated word of `text` and what follows it.
fn next_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (end > 0).then(|| (&text[..end], &text[end..]))
}

/// Parses the header (`<tool> on <kernel> ...`) and the `per test:` rows
/// (`  <binary>/<test>  <label> <seconds>s  <detail>`) of a summary file.
fn parse_summary(text: &str) -> Run {
    let header = text.lines().next().unwrap_or_default();
    let Some((_, after_on)) = header.split_once(" on ") else {
        return Run::NotRun(header.trim().to_string());
    };
    let (kernel, after_kernel) = next_word(after_on).unwrap_or_default();
    let kernel = kernel.trim_end_matches(':').to_string();
    let arch = ["(qemu ", "(host "].iter().find_map(|marker| {
        let rest = &after_kernel[after_kernel.find(marker)? + marker.len()..];
        let word = rest.split([',', ')']).next()?.trim();
        (!word.is_empty()).then(|| word.to_string())
    });
    let rows = text
        .lines()
        .skip_while(|line| line.trim() != "per test:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| {
            let (name, rest) = next_word(line)?;
            let (label, rest) = next_word(rest)?;
            let rest = match next_word(rest) {
                Some((secs, after))
                    if secs.ends_with('s') && secs[..secs.len() - 1].parse::<f64>().is_ok() =>
                {
                    after
                }
                _ => rest,
            };
            let (binary, test) = name.split_once('/')?;
            Some(Row {
                binary: binary.to_string(),
                test: test.to_string(),
                label: label.to_string(),
                detail: rest.trim().to_string(),
            })
        })
        .collect();
    Run::Ran { kernel, arch, rows }
}

fn read_run(path: &Path, how: &str) -> Run {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_summary(&text),
        Err(_) => Run::NotRun(format!("{} missing; run {how}", path.display())),
    }
}

/// The reason of a `SKIPPED <path>: <reason>` line.
fn skip_reason(detail: &str) -> &str {
    detail
        .strip_prefix("SKIPPED ")
        .and_then(|rest| rest.split_once(": "))
        .map_or(detail, |(_, reason)| reason)
}

/// Renders the combined table; `runs` are (column title, run) in column order.
fn render(runs: &[(String, Run)]) -> String {
    let mut out = String::new();
    let titles: Vec<String> = runs.iter().map(|(title, _)| title.clone()).collect();
    let _ = writeln!(out, "==== columns");
    let legend_width = titles.iter().map(String::len).max().unwrap_or(0);
    for (title, run) in runs {
        let what = match run {
            Run::Ran { kernel, arch, .. } => match arch {
                Some(arch) => format!("{kernel} ({arch})"),
                None => kernel.clone(),
            },
            Run::NotRun(why) => format!("not run ({why})"),
        };
        let _ = writeln!(out, "  {title:<legend_width$}  {what}");
    }
    let _ = writeln!(out, "\n==== results per program type (pass/skip/fail)");
    // type → per run [pass, skip, fail]
    let mut counts: BTreeMap<String, Vec<[usize; 3]>> = BTreeMap::new();
    for (index, (_, run)) in runs.iter().enumerate() {
        let Run::Ran { rows, .. } = run else { continue };
        for row in rows {
            let slot = match row.label.as_str() {
                "pass" => 0,
                "skip" => 1,
                "FAIL" => 2,
                _ => continue,
            };
            let cells = counts
                .entry(program_type(&row.binary, &row.test))
                .or_insert_with(|| vec![[0; 3]; runs.len()]);
            if let Some(cell) = cells.get_mut(index) {
                cell[slot] += 1;
            }
        }
    }
    let width = titles.iter().map(String::len).max().unwrap_or(0).max(8);
    let mut header = format!("{:<20}", "type");
    for title in &titles {
        let _ = write!(header, " | {title:<width$}");
    }
    let _ = writeln!(out, "{}", header.trim_end());
    for (ty, cells) in &counts {
        let mut line = format!("{ty:<20}");
        for ((_, run), [pass, skip, fail]) in runs.iter().zip(cells) {
            let cell = match run {
                Run::NotRun(_) => "not run".to_string(),
                Run::Ran { .. } if pass + skip + fail == 0 => "-".to_string(),
                Run::Ran { .. } => format!("{pass}/{skip}/{fail}"),
            };
            let _ = write!(line, " | {cell:<width$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }

    let _ = writeln!(out, "\n==== where each program type has passing tests");
    for (ty, cells) in &counts {
        let passing: Vec<&str> = titles
            .iter()
            .zip(cells)
            .filter(|(_, [pass, _, _])| *pass > 0)
            .map(|(title, _)| title.as_str())
            .collect();
        let passing = if passing.is_empty() {
            "nowhere".to_string()
        } else {
            passing.join(", ")
        };
        let _ = writeln!(out, "{ty:<20} {passing}");
    }

    let mut outcomes: BTreeMap<(String, String), Vec<Option<&Row>>> = BTreeMap::new();
    let mut notable: BTreeSet<(String, String)> = BTreeSet::new();
    for (index, (_, run)) in runs.iter().enumerate() {
        let Run::Ran { rows, .. } = run else { continue };
        for row in rows {
            let key = (row.binary.clone(), row.test.clone());
            if row.label != "pass" {
                notable.insert(key.clone());
            }
            let slots = outcomes
                .entry(key)
                .or_insert_with(|| vec![None; runs.len()]);
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(row);
            }
        }
    }
    if !notable.is_empty() {
        let _ = writeln!(
            out,
            "\n==== skipped or failed somewhere: outcome per kernel"
        );
    }
    for key in &notable {
        let (binary, test) = key;
        let _ = writeln!(out, "{binary}/{test}");
        let slots = outcomes.get(key).map(Vec::as_slice).unwrap_or_default();
        for (index, ((_, run), title)) in runs.iter().zip(&titles).enumerate() {
            let what = match (run, slots.get(index).copied().flatten()) {
                (Run::NotRun(_), _) => "not run".to_string(),
                (Run::Ran { .. }, None) => "not run (not in that run)".to_string(),
                (Run::Ran { .. }, Some(row)) => match row.label.as_str() {
                    "skip" => format!("skip: {}", skip_reason(&row.detail)),
                    "FAIL" => format!("FAIL: {}", row.detail),
                    label => label.to_string(),
                },
            };
            let _ = writeln!(out, "  {title:<width$}  {what}");
        }
    }
    // Coverage that runs nowhere (skipped or absent everywhere): each must name a reason that
    // was checked on every kernel.
    let everywhere: Vec<String> = outcomes
        .iter()
        .filter(|(_, slots)| {
            runs.iter()
                .zip(slots.iter())
                .all(|((_, run), slot)| match run {
                    Run::NotRun(_) => true,
                    Run::Ran { .. } => slot.is_none_or(|row| row.label == "skip"),
                })
                && slots.iter().any(Option::is_some)
        })
        .map(|((binary, test), _)| format!("{binary}/{test}"))
        .collect();
    let _ = writeln!(
        out,
        "\n==== skipped on every kernel that ran it: {}",
        everywhere.len()
    );
    for name in &everywhere {
        let _ = writeln!(out, "{name}");
    }
    out
}

/// Numeric fields of a kernel release, so 6.12 sorts after 6.1.
fn version_key(release: &str) -> Vec<u64> {
    release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

pub fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: cargo xtask summary".to_string());
    }
    let mut runs = vec![(
        "host".to_string(),
        read_run(&crate::test::summary_path(), "cargo xtask test"),
    )];
    let paths: Vec<std::path::PathBuf> = std::fs::read_dir(crate::vm_test::summaries_dir())
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    let mut guests: Vec<(String, Run)> = paths
        .iter()
        .map(|path| {
            let run = read_run(path, "cargo xtask vm-test");
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let title = match &run {
                Run::Ran { kernel, arch, .. } => column_label(kernel, arch.as_deref()),
                Run::NotRun(_) => stem.into_owned(),
            };
            (title, run)
        })
        .collect();
    guests.sort_by_key(|(title, run)| match run {
        Run::Ran { kernel, arch, .. } => column_order(kernel, arch.as_deref()),
        Run::NotRun(_) => (3, version_key(title)),
    });
    if guests.is_empty() {
        guests.push((
            "guest".to_string(),
            Run::NotRun("no summary in target/vm-test-summaries; run cargo xtask vm-test".into()),
        ));
    }
    runs.extend(guests);
    print!("{}", render(&runs));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_and_ordered_by_kernel() {
        assert_eq!(column_label("5.10.0-46-amd64", Some("x86_64")), "5.10");
        assert_eq!(column_label("6.12.95+deb12-amd64", Some("x86_64")), "6.12");
        assert_eq!(column_label("6.1.192-lirc", Some("x86_64")), "lirc 6.1");
        assert_eq!(column_label("6.1.0-57-arm64", Some("aarch64")), "arm64 6.1");
        assert_eq!(column_label("6.1.0-56-amd64", None), "6.1");
        let mut kernels = [
            ("6.1.0-57-arm64", Some("aarch64")),
            ("6.12.95+deb12-amd64", Some("x86_64")),
            ("6.1.192-lirc", Some("x86_64")),
            ("7.3.4+bpo-amd64", Some("x86_64")),
            ("5.10.0-46-amd64", Some("x86_64")),
            ("6.1.0-57-amd64", None),
        ];
        kernels.sort_by_key(|(kernel, arch)| column_order(kernel, *arch));
        let labels: Vec<String> = kernels
            .iter()
            .map(|(kernel, arch)| column_label(kernel, *arch))
            .collect();
        assert_eq!(
            labels,
            ["5.10", "6.1", "6.12", "7.3", "lirc 6.1", "arm64 6.1"]
        );
    }

    const VM: &str = "\
vm-test on 6.1.0-56-amd64 (qemu x86_64, TCG): 1 passed, 1 skipped, 1 failed in 50.0 s

per program type:
  type                  pass  skip  fail
  xdp                      1     1     1

per test:
  net_xdp/xdp_generic_on_lo   pass      0.52s
  net_xdp/xdp_native_on_veth  skip      0.10s  SKIPPED net_xdp::xdp_native_on_veth: no veth: driver
  net_xdp/xdp_drop_counts     FAIL      1.00s  test failed (exit status 101)
timings: build 1.0 s
";

    const HOST: &str = "\
cargo xtask test on 6.18.44 (host x86_64): 3 passed, 0 skipped, 0 failed in 9.0 s

per test:
  net_xdp/xdp_generic_on_lo   pass      0.00s
  net_xdp/xdp_native_on_veth  pass      0.00s
  net_xdp/xdp_drop_counts     pass      0.00s
  smoke/kprobe_attach         skip      0.00s  SKIPPED smoke::kprobe_attach: no kprobes
";

    #[test]
    fn summary_files_parse_into_rows() {
        let Run::Ran { kernel, arch, rows } = parse_summary(VM) else {
            panic!("VM summary did not parse");
        };
        assert_eq!(kernel, "6.1.0-56-amd64");
        assert_eq!(arch.as_deref(), Some("x86_64"));
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            Row {
                binary: "net_xdp".to_string(),
                test: "xdp_native_on_veth".to_string(),
                label: "skip".to_string(),
                detail: "SKIPPED net_xdp::xdp_native_on_veth: no veth: driver".to_string(),
            }
        );
        assert_eq!(skip_reason(&rows[1].detail), "no veth: driver");
        assert_eq!(rows[0].detail, "");
        assert_eq!(rows[2].label, "FAIL");
        assert!(matches!(
            parse_summary("vm-test did not run: no kernel\n"),
            Run::NotRun(_)
        ));
    }

    #[test]
    fn table_has_a_column_per_kernel_and_reasons_per_kernel() {
        let table = render(&[
            ("host".to_string(), parse_summary(HOST)),
            ("6.1".to_string(), parse_summary(VM)),
        ]);
        let row = |ty: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("{ty} ")))
                .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(row("xdp"), ["xdp", "3/0/0", "1/1/1"], "{table}");
        assert_eq!(row("kprobe"), ["kprobe", "0/1/0", "-"], "{table}");
        assert!(table.contains("6.18.44 (x86_64)"), "{table}");
        assert!(
            !table.lines().take(3).any(|l| l.contains("not run")),
            "{table}"
        );
        let passing = table
            .lines()
            .skip_while(|l| !l.starts_with("==== where"))
            .find(|l| l.starts_with("xdp "))
            .unwrap_or_default();
        assert!(passing.ends_with("host, 6.1"), "{table}");
        let veth = table
            .lines()
            .skip_while(|l| *l != "net_xdp/xdp_native_on_veth")
            .take(3)
            .collect::<Vec<_>>();
        assert_eq!(veth.len(), 3, "{table}");
        assert!(veth[1].ends_with("pass"), "{table}");
        assert!(veth[2].ends_with("skip: no veth: driver"), "{table}");
        assert!(
            table.contains("FAIL: test failed (exit status 101)"),
            "{table}"
        );
        assert!(!table.contains("net_xdp/xdp_generic_on_lo\n"), "{table}");
        assert!(
            table.ends_with("==== skipped on every kernel that ran it: 1\nsmoke/kprobe_attach\n"),
            "{table}"
        );
    }

    #[test]
    fn a_missing_run_says_not_run() {
        let table = render(&[
            ("host".to_string(), parse_summary(HOST)),
            ("guest".to_string(), Run::NotRun("file missing".to_string())),
        ]);
        assert!(table.contains("guest  not run (file missing)"), "{table}");
        let kprobe = table
            .lines()
            .find(|l| l.starts_with("kprobe "))
            .unwrap_or_default();
        assert!(kprobe.ends_with("not run"), "{table}");
    }
}
