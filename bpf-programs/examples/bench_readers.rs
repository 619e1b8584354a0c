//! Our side of `cargo xtask bench-readers` (xtask/bench/readers_libbpf.c is libbpf's): the
//! producer of tests/bpf/map_readers.bpf.c (`emit`, run with BPF_PROG_TEST_RUN on a given CPU) fills
//! a buffer, then it is drained; only the drain is timed. Also batch and single lookups of a
//! hash map. Prints key=value lines; run it pinned to a CPU (`taskset`), as xtask does.
//!
//! `bench_readers <object> ring|perf <record bytes> <cycles> <buffer bytes> <fill CPU>`
//! `bench_readers <object> lookup <entries> <single lookups>`

use std::hint::black_box;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use bpf_programs::maps::flags::BPF_ANY;
use bpf_programs::maps::{HashMap, PerfBuffer, PerfEventArray, RingBuf};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};

const BATCH: u32 = 4096;

/// The buffer's bytes (the ring buffer's, or each CPU's perf buffer's) and the CPU that fills
/// it: the consumer's own (records in its cache) or another.
#[derive(Debug, Clone, Copy)]
struct Setup {
    bytes: u32,
    fill_cpu: u32,
}

type Error = Box<dyn std::error::Error>;

/// Runs `emit` on `cpu`: `count` records of `size` bytes to `target`, payload not rewritten.
fn emit(
    program: BorrowedFd<'_>,
    cpu: u32,
    count: u64,
    target: u64,
    size: u64,
) -> Result<u64, Error> {
    let args = [u64::from(cpu), count, target, size, 0, 0u64];
    let ctx: Vec<u8> = args.iter().flat_map(|a| a.to_ne_bytes()).collect();
    let out = prog_test_run(
        program,
        TestRunAttr {
            ctx_in: &ctx,
            flags: bpf_sys::generated::BPF_F_TEST_RUN_ON_CPU,
            cpu,
            ..TestRunAttr::default()
        },
    )?;
    Ok(u64::from(out.retval))
}

fn open(path: &str, setup: Setup) -> Result<Bpf, Error> {
    let mut bpf = BpfLoader::new()
        .set_max_entries("ring", setup.bytes)
        .load_file(path)?;
    bpf.program_mut("emit").ok_or("no program `emit`")?.load()?;
    Ok(bpf)
}

fn first_word(record: &[u8]) -> u64 {
    u64::from_ne_bytes(record[..8].try_into().unwrap_or_default())
}

/// Untimed cycles first (a tenth, and one more): the first read of each page faults it in, and
/// the CPU's caches and branch predictors settle.
fn warm_up(cycles: u32) -> u32 {
    cycles / 10 + 1
}

/// Times `cycles` fill-then-drain cycles after the warm-up; prints `ours.<label>_per_s`, the
/// median of the cycles' rates (a cycle that lost the CPU to another process is an outlier).
fn cycles(
    label: &str,
    cycles: u32,
    mut fill: impl FnMut() -> Result<u64, Error>,
    mut drain: impl FnMut(u64) -> Result<u64, Error>,
) -> Result<(), Error> {
    let mut rates = Vec::with_capacity(cycles as usize);
    let warm_up = warm_up(cycles);
    for cycle in 0..cycles + warm_up {
        let took = fill()?;
        let start = Instant::now();
        let seen = drain(took)?;
        let time = start.elapsed();
        if cycle >= warm_up {
            rates.push(seen as f64 / time.as_secs_f64());
        }
    }
    rates.sort_by(f64::total_cmp);
    println!("ours.{label}_per_s={:.0}", rates[rates.len() / 2]);
    Ok(())
}

fn bench_ring(path: &str, size: u64, n: u32, setup: Setup) -> Result<(), Error> {
    let mut bpf = open(path, setup)?;
    let program = bpf.program("emit").ok_or("no program")?.fd()?.try_clone()?;
    let mut ring = RingBuf::try_from(bpf.take_map("ring").ok_or("no map `ring`")?)?;
    let count = u64::from(setup.bytes) / (size + 8).next_multiple_of(8);
    let mut sum = 0u64;
    let fill = || emit(program.as_fd(), setup.fill_cpu, count, 0, size);
    cycles("drain", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            seen += ring.drain(|record| sum = sum.wrapping_add(first_word(&record)))? as u64;
        }
        Ok(seen)
    })?;
    cycles("poll", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            seen += ring.poll(Some(Duration::from_secs(1)), |record| {
                sum = sum.wrapping_add(first_word(&record))
            })? as u64;
        }
        Ok(seen)
    })?;
    cycles("next", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            match ring.try_next()? {
                Some(record) => {
                    sum = sum.wrapping_add(first_word(&record));
                    seen += 1;
                }
                None => {
                    ring.wait(Some(Duration::from_secs(1)))?;
                }
            }
        }
        Ok(seen)
    })?;
    println!("ours.checksum={sum}");
    Ok(())
}

fn bench_perf(path: &str, size: u64, n: u32, setup: Setup) -> Result<(), Error> {
    let mut bpf = open(path, setup)?;
    let program = bpf.program("emit").ok_or("no program")?.fd()?.try_clone()?;
    let mut array = PerfEventArray::try_from(bpf.take_map("perf").ok_or("no map `perf`")?)?;
    let mut perf = PerfBuffer::new(
        &mut array,
        setup.bytes as usize / bpf_sys::util::page_size(),
    )?;
    // perf_event_header, u32 size, the sample padded; a little room left over.
    let record = 8 + 4 + ((size + 4).next_multiple_of(8) - 4);
    let count = u64::from(setup.bytes) / record - 16;
    let mut sum = 0u64;
    let fill = || emit(program.as_fd(), setup.fill_cpu, count, 1, size);
    let lost = |cpu, count| eprintln!("lost {count} samples on CPU {cpu}");
    cycles("poll", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            seen += perf.poll(
                Some(Duration::from_secs(1)),
                |_, sample| sum = sum.wrapping_add(first_word(&sample)),
                lost,
            )? as u64;
        }
        Ok(seen)
    })?;
    cycles("drain", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            seen += perf.drain(
                |_, sample| sum = sum.wrapping_add(first_word(&sample)),
                lost,
            )? as u64;
        }
        Ok(seen)
    })?;
    println!("ours.checksum={sum}");
    Ok(())
}

fn bench_lookup(entries: u32, singles: u32) -> Result<(), Error> {
    let mut map = HashMap::<_, u32, u64>::create(entries, 0)?;
    let keys: Vec<u32> = (0..entries).collect();
    let values: Vec<u64> = keys.iter().map(|&k| u64::from(k) * 3).collect();
    for (k, v) in keys
        .chunks(BATCH as usize)
        .zip(values.chunks(BATCH as usize))
    {
        map.batch_update(k, v, BPF_ANY)?;
    }
    // The caller's vectors, reused: the second walk allocates nothing.
    let (mut out_keys, mut out_values) = (Vec::new(), Vec::new());
    map.batch_lookup_into(&mut out_keys, &mut out_values)?;
    let start = Instant::now();
    let total = map.batch_lookup_into(&mut out_keys, &mut out_values)?;
    let elapsed = start.elapsed();
    if total != entries as usize {
        return Err(format!("batch lookup saw {total} of {entries} entries").into());
    }
    println!(
        "ours.batch_per_s={:.0}",
        total as f64 / elapsed.as_secs_f64()
    );
    let start = Instant::now();
    let all = map.batch_lookup()?;
    println!(
        "ours.batch_vec_per_s={:.0}",
        all.len() as f64 / start.elapsed().as_secs_f64()
    );
    drop(all);
    let start = Instant::now();
    for i in 0..singles {
        black_box(map.get(&(i % 1024), 0)?);
    }
    println!(
        "ours.lookup_per_s={:.0}",
        f64::from(singles) / start.elapsed().as_secs_f64()
    );
    let fd = map.map_data().map_fd();
    let mut value = [0u8; 8];
    let start = Instant::now();
    for i in 0..singles {
        black_box(fd.lookup(&(i % 1024).to_ne_bytes(), &mut value, 0)?);
    }
    println!(
        "ours.bytes_lookup_per_s={:.0}",
        f64::from(singles) / start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, mode, a, b, setup) = match args.as_slice() {
        [path, mode, a, b] => (path, mode, a, b, None),
        [path, mode, a, b, bytes, cpu] => (
            path,
            mode,
            a,
            b,
            Some(Setup {
                bytes: bytes.parse()?,
                fill_cpu: cpu.parse()?,
            }),
        ),
        _ => {
            return Err(
                "usage: bench_readers <object> ring|perf|lookup <n> <m> [<bytes> <cpu>]".into(),
            );
        }
    };
    let setup = || setup.ok_or("ring and perf need <bytes> <cpu>");
    match mode.as_str() {
        "ring" => bench_ring(path, a.parse()?, b.parse()?, setup()?),
        "perf" => bench_perf(path, a.parse()?, b.parse()?, setup()?),
        "lookup" => bench_lookup(a.parse()?, b.parse()?),
        _ => Err(format!("unknown mode {mode}").into()),
    }
}
