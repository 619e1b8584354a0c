//! Logging throughput through the whole path, in records per second: an XDP program run by
//! `BPF_PROG_TEST_RUN` logs one record per run, a reader thread drains them.
//!
//! - `bpf_log.h` → ring buffer → `BpfLogger::flush` → decode + format → the `log` crate;
//! - `bpf_printk` (what libbpf users have) → trace buffer → `TracePipe` (parse + filter);
//! - a raw 24-byte ring buffer record → `RingBuf::next`, no formatting: the floor.
//!
//! Same message ("packet %u of %d bytes"), same producer, same run. Needs root.
//! `cargo bench -p bpf-programs --bench log`

use bpf_programs::programs::TestRunOptions;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bpf_programs::logger::BpfLogger;
use bpf_programs::maps::RingBuf;
use bpf_programs::programs::Xdp;
use bpf_programs::trace_pipe::TracePipe;
use bpf_programs::{Bpf, BpfLoader};

const OBJECT: &[u8] = include_bytes!("../../tests/bpf/obj/log_programs.bpf.o");
const RECORDS: u32 = 200_000;
/// Records written before a drain is timed (the ring buffers hold them all).
const FILL: u32 = 200_000;
const PER_CALL: u32 = 2_000;
const ROUNDS: usize = 5;

/// Counts what reaches the `log` crate (and formats it, as a real logger would).
struct Counting(AtomicU64);

impl log::Log for Counting {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let mut sink = String::with_capacity(64);
        let _ = std::fmt::Write::write_fmt(&mut sink, *record.args());
        std::hint::black_box(&sink);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn flush(&self) {}
}

static COUNTING: Counting = Counting(AtomicU64::new(0));

/// Runs `program` `RECORDS` times in batches while `drain` runs in this thread; returns the
/// records drained per second of wall time (from the first run to the last record drained or
/// a quiet second) and how many were drained.
fn run(bpf: &mut Bpf, program: &str, mut drain: impl FnMut() -> u64) -> (f64, u64) {
    let prog: &mut Xdp = bpf.program_mut(program).unwrap().try_into().unwrap();
    if prog.fd().is_err() {
        prog.load().expect("program loads");
    }
    let fd = prog.fd().unwrap().as_fd().try_clone_to_owned().unwrap();
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let producer_done = std::sync::Arc::clone(&done);
    let start = Instant::now();
    let producer = std::thread::spawn(move || {
        let packet = [0u8; 64];
        let mut left = RECORDS;
        while left > 0 {
            let n = left.min(PER_CALL);
            bpf_sys::test_run::prog_test_run(
                fd.as_fd(),
                bpf_sys::test_run::TestRunAttr {
                    data_in: &packet,
                    repeat: n,
                    ..Default::default()
                },
            )
            .expect("test run");
            left -= n;
        }
        producer_done.store(true, Ordering::Release);
    });
    let mut drained = 0u64;
    let mut last = Instant::now();
    let mut end = start.elapsed();
    loop {
        let n = drain();
        if n > 0 {
            drained += n;
            last = Instant::now();
            end = start.elapsed();
        }
        if drained >= u64::from(RECORDS) {
            break;
        }
        if done.load(Ordering::Acquire) && last.elapsed() > Duration::from_secs(1) {
            break;
        }
        if n == 0 {
            std::thread::yield_now();
        }
    }
    producer.join().unwrap();
    (drained as f64 / end.as_secs_f64(), drained)
}

/// Nanoseconds per run of `program` in the kernel (`BPF_PROG_TEST_RUN`'s own average), with
/// nobody reading: what one record costs the program.
fn kernel_cost(bpf: &mut Bpf, program: &str, runs: u32) -> u32 {
    let prog: &mut Xdp = bpf.program_mut(program).unwrap().try_into().unwrap();
    if prog.fd().is_err() {
        prog.load().expect("program loads");
    }
    prog.test_run(TestRunOptions::new().data(&[0u8; 64]).repeat(runs))
        .expect("test run")
        .duration
        .as_nanos() as u32
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let mut bpf = match BpfLoader::new()
        .set_max_entries("bpf_log_events", 16 << 20)
        .set_max_entries("raw_events", 16 << 20)
        .load(OBJECT)
    {
        Ok(bpf) => bpf,
        Err(e) => {
            eprintln!("SKIPPED log bench: cannot open the object ({e}); run as root");
            return;
        }
    };
    log::set_logger(&COUNTING).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let printk_id = {
        let p: &mut Xdp = bpf.program_mut("printk_bench").unwrap().try_into().unwrap();
        p.load().unwrap();
        p.info().unwrap().id()
    };

    // 1. What a record costs the program, nobody reading (the kernel's own average per run).
    // 2. Draining what is there: decode, format, hand to `log` (or parse and filter lines).
    let (mut k_log, mut k_raw, mut k_printk) = (Vec::new(), Vec::new(), Vec::new());
    let (mut d_log, mut d_raw, mut d_printk) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let mut logger = BpfLogger::init(&mut bpf).unwrap();
        k_log.push(f64::from(kernel_cost(&mut bpf, "log_bench", FILL)));
        let t = Instant::now();
        let n = logger.flush();
        d_log.push(n as f64 / t.elapsed().as_secs_f64());

        let mut events =
            RingBuf::new(bpf.map("raw_events").unwrap().data().try_clone().unwrap()).unwrap();
        k_raw.push(f64::from(kernel_cost(&mut bpf, "raw_bench", FILL)));
        let t = Instant::now();
        let mut n = 0u64;
        while let Some(r) = events.next() {
            std::hint::black_box(&*r);
            n += 1;
        }
        d_raw.push(n as f64 / t.elapsed().as_secs_f64());

        match TracePipe::open().and_then(|p| p.only_program(printk_id)) {
            Ok(mut pipe) => {
                k_printk.push(f64::from(kernel_cost(&mut bpf, "printk_bench", FILL)));
                let t = Instant::now();
                let mut n = 0u64;
                while let Ok(Some(line)) = pipe.next_line(Some(Duration::ZERO)) {
                    std::hint::black_box(&line);
                    n += 1;
                }
                // The trace buffer keeps only its last lines; the rate counts those read.
                d_printk.push(n as f64 / t.elapsed().as_secs_f64());
            }
            Err(e) => println!("bpf_printk skipped: {e}"),
        }
    }
    println!("median of {ROUNDS} rounds of {FILL} records:");
    println!("in the program (ns per record, BPF_PROG_TEST_RUN average):");
    let (kl, kr) = (median(&mut k_log), median(&mut k_raw));
    println!("  bpf_log_info          {kl:>8.0} ns");
    println!("  raw ringbuf record    {kr:>8.0} ns");
    if !k_printk.is_empty() {
        let kp = median(&mut k_printk);
        println!(
            "  bpf_printk            {kp:>8.0} ns   (bpf_log = {:.2}× its cost)",
            kl / kp
        );
    }
    println!("reading (records per second, one thread):");
    let (dl, dr) = (median(&mut d_log), median(&mut d_raw));
    println!("  BpfLogger → log       {dl:>12.0}");
    println!(
        "  RingBuf, no format    {dr:>12.0}   (BpfLogger = {:.2}× of it)",
        dl / dr
    );
    if !d_printk.is_empty() {
        let dp = median(&mut d_printk);
        println!(
            "  TracePipe (filtered)  {dp:>12.0}   (BpfLogger = {:.1}× it)",
            dl / dp
        );
    }

    // 3. Both at once: the producer in one thread, the reader in this one.
    let (mut e_log, mut e_printk) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let mut logger = BpfLogger::init(&mut bpf).unwrap();
        // As a reader thread does: sleep until woken, then take everything there.
        e_log.push(
            run(&mut bpf, "log_bench", || {
                let _ = logger.wait(Some(Duration::from_millis(10)));
                logger.flush() as u64
            })
            .0,
        );
        if let Ok(mut pipe) = TracePipe::open().and_then(|p| p.only_program(printk_id)) {
            e_printk.push(
                run(&mut bpf, "printk_bench", || {
                    let mut k = 0;
                    let mut wait = Duration::from_millis(10);
                    while let Ok(Some(line)) = pipe.next_line(Some(wait)) {
                        wait = Duration::ZERO;
                        std::hint::black_box(&line);
                        k += 1;
                    }
                    k
                })
                .0,
            );
        }
    }
    println!("end to end, producer and reader together ({RECORDS} records):");
    let el = median(&mut e_log);
    println!("  bpf_log.h → log       {el:>12.0} records/s");
    if !e_printk.is_empty() {
        let ep = median(&mut e_printk);
        println!(
            "  bpf_printk → pipe     {ep:>12.0} lines/s     (bpf_log = {:.2}× it)",
            el / ep
        );
    }
    println!(
        "(the log crate saw {} records)",
        COUNTING.0.load(Ordering::Relaxed)
    );
}
