//! `cargo xtask bench-readers`: ring buffer and perf buffer consumers, batch and single map
//! lookups, ours (bpf-programs/examples/bench_readers.rs) against libbpf
//! (xtask/bench/readers_libbpf.c) on the same producer, in paired rounds.
//!
//! Each round runs both programs once per case, in alternating order, each pinned to the last
//! CPU; a program reports the median rate over its cycles (fill the buffer, then time the
//! drain), so that a cycle preempted by another process does not count. The table shows the
//! median over rounds of each side's rate and of the per-round ratio.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROUNDS: usize = 7;
const OBJECT: &str = "tests/bpf/obj/map_readers.bpf.o";
/// Fill-and-drain cycles per run: many for a buffer that fits the reader's cache (each drain
/// takes microseconds), few for a large one (each fill takes tens of milliseconds).
const CYCLES_SMALL: &str = "200";
const CYCLES_LARGE: &str = "10";

/// One benchmark case: the arguments after the object, and which of our keys compare with
/// which of libbpf's.
struct Case {
    label: String,
    args: Vec<String>,
    pairs: &'static [(&'static str, &'static str, &'static str)],
    /// Comparisons made inside our run, in alternating blocks: label, our two rates' keys and
    /// the key of the median per-block ratio.
    in_process: &'static [InProcess],
}

/// A comparison our program makes against a raw loop in its own process (label, rate key,
/// raw rate key, key of the median ratio of alternating blocks).
type InProcess = (&'static str, &'static str, &'static str, &'static str);

const LOOKUP_IN_PROCESS: &[InProcess] = &[
    (
        "batch vs raw, 1 proc",
        "ours.paired_batch_per_s",
        "ours.paired_raw_batch_per_s",
        "ours.paired_batch_ratio",
    ),
    (
        "typed get vs raw, 1 proc",
        "ours.paired_typed_per_s",
        "ours.paired_raw_per_s",
        "ours.paired_ratio",
    ),
];

const RING_PAIRS: &[(&str, &str, &str)] = &[
    ("poll", "ours.poll_per_s", "libbpf.poll_per_s"),
    ("drain/consume", "ours.drain_per_s", "libbpf.consume_per_s"),
    ("next vs consume", "ours.next_per_s", "libbpf.consume_per_s"),
    // The memory's own limit: a fixed-stride read of every record, no reader library.
    (
        "drain vs no-library",
        "ours.drain_per_s",
        "bound.touch_per_s",
    ),
];
const PERF_PAIRS: &[(&str, &str, &str)] = &[
    ("poll", "ours.poll_per_s", "libbpf.poll_per_s"),
    ("drain/consume", "ours.drain_per_s", "libbpf.consume_per_s"),
];
const LOOKUP_PAIRS: &[(&str, &str, &str)] = &[
    (
        "batch, reused buffers",
        "ours.batch_per_s",
        "libbpf.batch_per_s",
    ),
    (
        "batch_lookup() -> Vec",
        "ours.batch_vec_per_s",
        "libbpf.batch_per_s",
    ),
    (
        "typed get vs raw bpf(2)",
        "ours.lookup_per_s",
        "libbpf.raw_lookup_per_s",
    ),
    (
        "typed get vs libbpf",
        "ours.lookup_per_s",
        "libbpf.lookup_per_s",
    ),
    (
        "bpf-sys bytes vs raw",
        "ours.bytes_lookup_per_s",
        "libbpf.raw_lookup_per_s",
    ),
];

fn cases(consumer: u32, other: Option<u32>) -> Vec<Case> {
    let mut cases = Vec::new();
    let buffer = |mode: &str, size: &str, bytes: &str, cpu: u32, where_: &str| Case {
        label: format!("{mode} {size} B records, {bytes} B buffer, filled {where_}"),
        args: [
            mode,
            size,
            if bytes.len() > 6 {
                CYCLES_LARGE
            } else {
                CYCLES_SMALL
            },
            bytes,
            &cpu.to_string(),
        ]
        .map(str::to_owned)
        .to_vec(),
        pairs: if mode == "ring" {
            RING_PAIRS
        } else {
            PERF_PAIRS
        },
        in_process: &[],
    };
    for mode in ["ring", "perf"] {
        for size in ["64", "1024"] {
            cases.push(buffer(
                mode,
                size,
                "262144",
                consumer,
                "on the reader's CPU (in cache)",
            ));
        }
        if let Some(other) = other {
            cases.push(buffer(mode, "64", "4194304", other, "on another CPU"));
        }
    }
    cases.push(Case {
        label: "hash map u32 -> u64, 1M entries".into(),
        args: ["lookup", "1000000", "300000"].map(str::to_owned).to_vec(),
        pairs: LOOKUP_PAIRS,
        in_process: LOOKUP_IN_PROCESS,
    });
    cases
}

/// What one run printed: `key=value` lines.
type Figures = HashMap<String, f64>;

fn key_values(output: &[u8]) -> Figures {
    String::from_utf8_lossy(output)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| Some((k.trim().to_string(), v.trim().parse().ok()?)))
        .collect()
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<Vec<u8>, String> {
    let out = cmd.output().map_err(|e| format!("running {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

fn build(root: &Path, scratch: &Path) -> Result<(PathBuf, PathBuf), String> {
    let libbpf_bin = scratch.join("readers_libbpf");
    run_checked(
        Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&libbpf_bin)
            .arg(root.join("xtask/bench/readers_libbpf.c"))
            .arg("-lbpf"),
        "gcc (needs libbpf-dev)",
    )?;
    run_checked(
        Command::new(env!("CARGO")).current_dir(root).args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "bpf-programs",
            "--example",
            "bench_readers",
        ]),
        "cargo build --release -p bpf-programs --example bench_readers",
    )?;
    Ok((
        libbpf_bin,
        root.join("target/release/examples/bench_readers"),
    ))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn online_cpus() -> Vec<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
            cpus.extend(a..=b);
        }
    }
    cpus
}

pub fn run(args: &[String]) -> Result<(), String> {
    let filter = match args {
        [] => None,
        [filter] => Some(filter.as_str()),
        _ => return Err("usage: cargo xtask bench-readers [case filter, e.g. ring]".into()),
    };
    let root = crate::workspace_root();
    let scratch = root.join("target/xtask-bench");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let (libbpf_bin, ours_bin) = build(&root, &scratch)?;
    let object = root.join(OBJECT);
    let cpus = online_cpus();
    let consumer = *cpus.last().ok_or("no online CPU")?;
    let other = cpus.iter().copied().find(|&c| c != consumer);
    let cases: Vec<Case> = cases(consumer, other)
        .into_iter()
        .filter(|c| filter.is_none_or(|f| c.args[0].contains(f)))
        .collect();

    // results[case][round] = (ours, libbpf)
    let mut results: Vec<Vec<(Figures, Figures)>> = cases.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for (case, out) in cases.iter().zip(&mut results) {
            let run = |bin: &Path, what: &str| {
                run_checked(
                    Command::new("taskset")
                        .arg("-c")
                        .arg(consumer.to_string())
                        .arg(bin)
                        .arg(&object)
                        .args(&case.args),
                    what,
                )
                .map(|o| key_values(&o))
            };
            let (ours, theirs) = if round % 2 == 0 {
                let ours = run(&ours_bin, "bench_readers (ours)")?;
                (ours, run(&libbpf_bin, "readers_libbpf")?)
            } else {
                let theirs = run(&libbpf_bin, "readers_libbpf")?;
                (run(&ours_bin, "bench_readers (ours)")?, theirs)
            };
            out.push((ours, theirs));
        }
        eprint!("\rround {}/{ROUNDS}", round + 1);
    }
    eprintln!();

    println!(
        "readers, ours against libbpf {} on the same producer, {ROUNDS} paired rounds (medians; \
         the machine is shared, so single rounds are noisy):",
        libbpf_version()
    );
    for (case, rounds) in cases.iter().zip(&results) {
        println!("{}", case.label);
        for (label, ours_key, libbpf_key) in case.pairs {
            let get = |m: &HashMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(f64::NAN);
            let ours = median(rounds.iter().map(|(o, _)| get(o, ours_key)).collect());
            let theirs = median(rounds.iter().map(|(_, l)| get(l, libbpf_key)).collect());
            let ratio = median(
                rounds
                    .iter()
                    .map(|(o, l)| get(o, ours_key) / get(l, libbpf_key))
                    .collect(),
            );
            let (them, per) = if libbpf_key.starts_with("bound.") {
                ("bound ", "ours/bound ")
            } else {
                ("libbpf", "ours/libbpf")
            };
            println!(
                "  {label:<24} ours {:>8.2} M/s   {them} {:>8.2} M/s   {per} {ratio:.2}",
                ours / 1e6,
                theirs / 1e6
            );
        }
        for (label, ours_key, raw_key, ratio_key) in case.in_process {
            let median_of = |key: &str| {
                median(
                    rounds
                        .iter()
                        .map(|(o, _)| o.get(key).copied().unwrap_or(f64::NAN))
                        .collect(),
                )
            };
            println!(
                "  {label:<24} ours {:>8.2} M/s   raw    {:>8.2} M/s   ours/raw    {:.3}",
                median_of(ours_key) / 1e6,
                median_of(raw_key) / 1e6,
                median_of(ratio_key)
            );
        }
    }
    Ok(())
}

fn libbpf_version() -> String {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "libbpf-dev"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|| "(version unknown)".into())
}
