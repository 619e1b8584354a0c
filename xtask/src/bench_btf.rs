//! `cargo xtask bench-btf`: our vmlinux BTF parse (and CO-RE) against libbpf's `btf__parse`,
//! measured in the same run, each in its own process so peak memory is comparable.

use std::collections::HashMap;
use std::process::Command;

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

pub fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: cargo xtask bench-btf".into());
    }
    let root = crate::workspace_root();
    let scratch = root.join("target/xtask-bench");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let libbpf_bin = scratch.join("btf_parse");
    run_checked(
        Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&libbpf_bin)
            .arg(root.join("xtask/bench/btf_parse.c"))
            .arg("-lbpf"),
        "gcc (needs libbpf-dev)",
    )?;
    let theirs = key_values(&run_checked(
        &mut Command::new(&libbpf_bin),
        "libbpf benchmark",
    )?);
    let ours = key_values(&run_checked(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["bench", "--quiet", "-p", "bpf-core", "--bench", "btf"]),
        "cargo bench -p bpf-core --bench btf",
    )?);
    let get = |m: &HashMap<String, f64>, k: &str| {
        m.get(k).copied().ok_or(format!("benchmark printed no {k}"))
    };
    println!(
        "vmlinux BTF parse ({} types), {} runs each:",
        get(&ours, "ours.types")?,
        50
    );
    for stat in ["min", "median"] {
        let (o, l) = (
            get(&ours, &format!("ours.parse_us_{stat}"))?,
            get(&theirs, &format!("libbpf.parse_us_{stat}"))?,
        );
        println!(
            "  {stat:<6}  ours {o:>7.0} us   libbpf {l:>7.0} us   ours/libbpf {:.2}",
            o / l
        );
    }
    let (o, l) = (get(&ours, "ours.rss_kb")?, get(&theirs, "libbpf.rss_kb")?);
    println!(
        "  peak RSS growth  ours {o:.0} KiB   libbpf {l:.0} KiB   ours/libbpf {:.2}",
        o / l
    );
    println!(
        "CO-RE, {} relocations over 10 programs against vmlinux: cold (incl. name index) min {:.0} us, median {:.0} us; warm {:.0} us",
        get(&ours, "ours.core_relos")?,
        get(&ours, "ours.core_cold_us_min")?,
        get(&ours, "ours.core_cold_us_median")?,
        get(&ours, "ours.core_warm_us_min")?
    );
    Ok(())
}
