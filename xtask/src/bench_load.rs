//! `cargo xtask bench-load`: a whole first load of an object (open, feature probes, kernel BTF,
//! CO-RE, every program loaded), ours against libbpf, each sample a fresh process, alternating.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLES: usize = 15;
const DEFAULT_OBJECT: &str = "tests/bpf/obj/core/core_vmlinux.o";

fn key_values(output: &[u8]) -> HashMap<String, f64> {
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

fn sample(cmd: &mut Command, what: &str) -> Result<HashMap<String, f64>, String> {
    Ok(key_values(&run_checked(cmd, what)?))
}

fn get(values: &HashMap<String, f64>, key: &str) -> Result<f64, String> {
    values
        .get(key)
        .copied()
        .ok_or(format!("benchmark printed no {key}"))
}

/// Minimum and median of one key over all samples.
fn min_median(samples: &[HashMap<String, f64>], key: &str) -> Result<(f64, f64), String> {
    let mut values = samples
        .iter()
        .map(|s| get(s, key))
        .collect::<Result<Vec<_>, _>>()?;
    values.sort_by(f64::total_cmp);
    match (values.first(), values.get(values.len() / 2)) {
        (Some(&min), Some(&median)) => Ok((min, median)),
        _ => Err("no samples".into()),
    }
}

fn build(root: &Path, scratch: &Path) -> Result<(PathBuf, PathBuf), String> {
    let libbpf_bin = scratch.join("load_libbpf");
    run_checked(
        Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&libbpf_bin)
            .arg(root.join("xtask/bench/load_libbpf.c"))
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
            "load_all",
        ]),
        "cargo build --release -p bpf-programs --example load_all",
    )?;
    Ok((libbpf_bin, root.join("target/release/examples/load_all")))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let root = crate::workspace_root();
    let object = match args {
        [] => root.join(DEFAULT_OBJECT),
        [path] => PathBuf::from(path),
        _ => return Err("usage: cargo xtask bench-load [object]".into()),
    };
    let scratch = root.join("target/xtask-bench");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let (libbpf_bin, ours_bin) = build(&root, &scratch)?;

    let (mut ours, mut theirs, mut offline) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        ours.push(sample(
            Command::new(&ours_bin).arg(&object),
            "load_all (ours)",
        )?);
        theirs.push(sample(
            Command::new(&libbpf_bin).arg(&object),
            "load_libbpf",
        )?);
        offline.push(sample(
            Command::new(&ours_bin).arg("--offline").arg(&object),
            "load_all --offline (ours)",
        )?);
    }

    let programs = |s: &[HashMap<String, f64>], key| s.first().map_or(Ok(0.0), |s| get(s, key));
    println!(
        "first load of {} in a fresh process ({} programs ours, {} libbpf), {SAMPLES} runs each:",
        object.display(),
        programs(&ours, "ours.programs")?,
        programs(&theirs, "libbpf.programs")?,
    );
    for (label, ours_key, libbpf_key) in [
        ("open", "ours.open_us", "libbpf.open_us"),
        ("open+load", "ours.load_us", "libbpf.load_us"),
    ] {
        let (o_min, o_med) = min_median(&ours, ours_key)?;
        let (l_min, l_med) = min_median(&theirs, libbpf_key)?;
        println!(
            "  {label:<10} min    ours {o_min:>7.0} us   libbpf {l_min:>7.0} us   ours/libbpf {:.2}",
            o_min / l_min
        );
        println!(
            "  {label:<10} median ours {o_med:>7.0} us   libbpf {l_med:>7.0} us   ours/libbpf {:.2}",
            o_med / l_med
        );
    }
    println!(
        "ours without the kernel (parse object, open and index vmlinux BTF, relocate incl. CO-RE):"
    );
    for (label, key) in [
        ("open", "ours.offline_open_us"),
        ("vmlinux", "ours.offline_vmlinux_us"),
        ("relocate", "ours.offline_relocate_us"),
        ("total", "ours.offline_us"),
    ] {
        let (min, median) = min_median(&offline, key)?;
        println!("  {label:<10} min {min:>7.0} us   median {median:>7.0} us");
    }
    let (min, median) = min_median(&offline, "ours.offline_plain_read_us")?;
    println!(
        "  (vmlinux is mapped, or read whole where the kernel cannot map it; a plain read(2) \
         loop, a page per call from sysfs, takes min {min:.0} us, median {median:.0} us)"
    );
    Ok(())
}
