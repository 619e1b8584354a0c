//! A sampling CPU profiler: a `perf_event` program on every CPU's clock counts, per process, the
//! user and kernel stacks it interrupts; the busiest are printed with kernel symbols.
//!
//! ```text
//! profiler [--seconds 5] [--pid PID] [--frequency 99] [--top 5] [--check]
//! ```
//!
//! `--check` profiles itself while spinning on one CPU and fails unless its samples arrive
//! (at least a twentieth of those expected). Run as root.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bpf_programs::programs::perf_event::perf_sw_ids;
use bpf_programs::programs::{PerfTypeId, SamplePolicy};

include!(concat!(env!("OUT_DIR"), "/profiler.skel.rs"));

#[derive(Debug)]
struct Args {
    seconds: u64,
    pid: u32,
    frequency: u64,
    top: usize,
    check: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 5,
        pid: 0,
        frequency: 99,
        top: 5,
        check: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or(format!("{name} needs a value"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--seconds" => args.seconds = number("--seconds")?,
            "--pid" => args.pid = number("--pid")? as u32,
            "--frequency" => args.frequency = number("--frequency")?,
            "--top" => args.top = number("--top")? as usize,
            "--check" => args.check = true,
            other => {
                return Err(format!(
                    "unknown argument {other} (see the source's header)"
                ));
            }
        }
    }
    if args.check {
        args.seconds = 2;
        args.pid = std::process::id();
    }
    Ok(args)
}

/// Kernel symbols by address, from /proc/kallsyms (zero addresses when not root).
struct KernelSymbols(Vec<(u64, String)>);

impl KernelSymbols {
    fn load() -> KernelSymbols {
        let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
        let mut symbols: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                let address = u64::from_str_radix(parts.next()?, 16).ok()?;
                let name = parts.nth(1)?;
                Some((address, name.to_owned()))
            })
            .filter(|(address, _)| *address != 0)
            .collect();
        symbols.sort_unstable();
        KernelSymbols(symbols)
    }

    fn name(&self, address: u64) -> String {
        match self.0.partition_point(|(a, _)| *a <= address) {
            0 => format!("{address:#x}"),
            i => {
                let (start, name) = &self.0[i - 1];
                format!("{name}+{:#x}", address - start)
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn run() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    let mut open = profiler::open()?;
    open.rodata.only_pid = args.pid;
    let mut skel = open.load()?;
    skel.progs.sample.attach_on_every_cpu(
        PerfTypeId::Software,
        u64::from(perf_sw_ids::PERF_COUNT_SW_CPU_CLOCK),
        SamplePolicy::Frequency(args.frequency),
    )?;
    println!(
        "sampling {} at {} Hz on every CPU for {} s…",
        if args.pid == 0 {
            "every process".to_owned()
        } else {
            format!("pid {}", args.pid)
        },
        args.frequency,
        args.seconds
    );
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    if args.check {
        // Something to sample: this thread spins.
        let mut x = 0u64;
        while Instant::now() < deadline {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    } else {
        std::thread::sleep(deadline - Instant::now());
    }

    let mut rows = Vec::new();
    let mut per_process: HashMap<(u32, String), u64> = HashMap::new();
    for entry in skel.maps.samples.iter() {
        let (key, count) = entry?;
        *per_process.entry((key.pid, text(&key.comm))).or_default() += count;
        rows.push((count, key));
    }
    rows.sort_unstable_by_key(|row| std::cmp::Reverse(row.0));
    let mut processes: Vec<_> = per_process.into_iter().collect();
    processes.sort_unstable_by_key(|p| std::cmp::Reverse(p.1));
    println!("\n{:<8} {:<16} {:>8}", "PID", "COMM", "SAMPLES");
    for ((pid, comm), count) in processes.iter().take(args.top) {
        println!("{pid:<8} {comm:<16} {count:>8}");
    }

    let symbols = KernelSymbols::load();
    println!("\nbusiest stacks:");
    for (count, key) in rows.iter().take(args.top) {
        println!("{count} samples, {} ({}):", text(&key.comm), key.pid);
        if let Ok(id) = u32::try_from(key.kernel_stack)
            && let Some(stack) = skel.maps.stacks.get(id)?
        {
            for frame in stack.frames.iter().take(8) {
                println!("    {}", symbols.name(*frame));
            }
        }
        if let Ok(id) = u32::try_from(key.user_stack)
            && let Some(stack) = skel.maps.stacks.get(id)?
        {
            for frame in stack.frames.iter().take(4) {
                println!("    {frame:#x} (user)");
            }
        }
    }
    if args.check {
        let own: u64 = processes
            .iter()
            .filter(|((pid, _), _)| *pid == args.pid)
            .map(|(_, count)| count)
            .sum();
        let expected = args.frequency * args.seconds;
        // Loose: the CPUs are shared, and a busy machine runs this thread only part of the time.
        if own < (expected / 20).max(5) {
            anyhow::bail!("check failed: {own} samples of this process, {expected} expected");
        }
        println!("\ncheck passed: {own} samples of this process ({expected} expected at most)");
    }
    Ok(())
}

/// Errors print as a chain (`anyhow`'s `Debug`): what failed, then each cause once.
fn main() -> anyhow::Result<()> {
    run()
}
