//! Our side of `cargo xtask bench-readers` (xtask/bench/readers_libbpf.c is libbpf's): the
//! producer of tests/bpf/map_readers.bpf.c (`emit`, run with BPF_PROG_TEST_RUN on a given CPU) fills
//! a buffer, then it is drained; only the drain is timed. Also batch and single lookups of a
//! hash map. Prints key=value lines; run it pinned to a CPU (`taskset`), as xtask does.
//!
//! `bench_readers <object> ring|perf <record bytes> <cycles> <buffer bytes> <fill CPU>`
//! `bench_readers <object> lookup <entries> <single lookups>`

use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use bpf_programs::maps::flags::BPF_ANY;
use bpf_programs::maps::{HashMap, MapData, PerfBuffer, PerfEventArray, RingBuf};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};

const BATCH: u32 = 4096;
/// Timed whole-map batch walks, after an untimed one.
const WALKS: usize = 5;

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
            let mut local = 0u64;
            seen += ring.drain(|record| local = local.wrapping_add(first_word(&record)))? as u64;
            sum = sum.wrapping_add(local);
        }
        Ok(seen)
    })?;
    cycles("poll", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            let mut local = 0u64;
            seen += ring.poll(Some(Duration::from_secs(1)), |record| {
                local = local.wrapping_add(first_word(&record))
            })? as u64;
            sum = sum.wrapping_add(local);
        }
        Ok(seen)
    })?;
    cycles("next", n, fill, |took| {
        let (mut seen, mut local) = (0, 0u64);
        while seen < took {
            match ring.try_next()? {
                Some(record) => {
                    local = local.wrapping_add(first_word(&record));
                    seen += 1;
                }
                None => {
                    ring.wait(Some(Duration::from_secs(1)))?;
                }
            }
        }
        sum = sum.wrapping_add(local);
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
    // A lost sample fails the run, as on libbpf's side.
    let lost = |cpu, count| {
        eprintln!("lost {count} samples on CPU {cpu}");
        std::process::exit(1)
    };
    cycles("poll", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            let mut local = 0u64;
            seen += perf.poll(
                Some(Duration::from_secs(1)),
                |_, sample| local = local.wrapping_add(first_word(&sample)),
                lost,
            )? as u64;
            sum = sum.wrapping_add(local);
        }
        Ok(seen)
    })?;
    cycles("drain", n, fill, |took| {
        let mut seen = 0;
        while seen < took {
            let mut local = 0u64;
            seen += perf.drain(
                |_, sample| local = local.wrapping_add(first_word(&sample)),
                lost,
            )? as u64;
            sum = sum.wrapping_add(local);
        }
        Ok(seen)
    })?;
    println!("ours.checksum={sum}");
    Ok(())
}

/// BPF_MAP_LOOKUP_ELEM straight through bpf(2), with the 32 bytes of attribute the command
/// reads (as libbpf passes them): the floor a typed lookup is measured against.
fn raw_lookup(fd: BorrowedFd<'_>, key: &u32, value: &mut u64) -> bool {
    #[repr(C)]
    struct ElemAttr {
        map_fd: u32,
        pad: u32,
        key: u64,
        value: u64,
        flags: u64,
    }
    let attr = ElemAttr {
        map_fd: fd.as_raw_fd() as u32,
        pad: 0,
        key: key as *const u32 as u64,
        value: value as *mut u64 as u64,
        flags: 0,
    };
    // SAFETY: `attr` is a valid BPF_MAP_LOOKUP_ELEM attribute of the size passed; key and
    // value point to live buffers of the map's key and value sizes.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            bpf_sys::generated::bpf_cmd::BPF_MAP_LOOKUP_ELEM as libc::c_long,
            &attr as *const ElemAttr,
            size_of::<ElemAttr>(),
        )
    };
    ret == 0
}

/// One whole-map walk with BPF_MAP_LOOKUP_BATCH straight through bpf(2), `BATCH` entries per
/// call into arrays of every entry (as libbpf's side does): the floor `batch_lookup_into` is
/// measured against in the same process. Returns the entries read.
fn raw_batch_walk(
    fd: BorrowedFd<'_>,
    keys: &mut [u32],
    values: &mut [u64],
) -> Result<usize, Error> {
    let (mut in_token, mut out_token, mut total) = (0u32, 0u32, 0usize);
    loop {
        let mut attr = bpf_sys::generated::bpf_attr__bindgen_ty_3 {
            in_batch: if total == 0 {
                0
            } else {
                &in_token as *const u32 as u64
            },
            out_batch: &mut out_token as *mut u32 as u64,
            keys: keys[total..].as_mut_ptr() as u64,
            values: values[total..].as_mut_ptr() as u64,
            count: BATCH.min((keys.len() - total) as u32),
            map_fd: fd.as_raw_fd() as u32,
            elem_flags: 0,
            flags: 0,
        };
        // SAFETY: `attr` is a valid BPF_MAP_LOOKUP_BATCH attribute of the size passed; the key
        // and value pointers have room for `count` entries of the map's sizes (4 and 8), the
        // tokens for a u32 key.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                bpf_sys::generated::bpf_cmd::BPF_MAP_LOOKUP_BATCH as libc::c_long,
                &mut attr as *mut bpf_sys::generated::bpf_attr__bindgen_ty_3,
                size_of::<bpf_sys::generated::bpf_attr__bindgen_ty_3>(),
            )
        };
        total += attr.count as usize;
        if ret < 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ENOENT) {
                return Ok(total);
            }
            return Err(error.into());
        }
        if total == keys.len() {
            return Err(format!("the map holds more than {total} entries").into());
        }
        in_token = out_token;
    }
}

/// `batch_lookup_into` against `raw_batch_walk` in the same process, alternating walks (which
/// goes first alternates too); prints each side's median rate and the median per-pair ratio.
fn paired_batches(map: &HashMap<MapData, u32, u64>, entries: u32, pairs: u32) -> Result<(), Error> {
    let fd = map.map_data().fd();
    // Both sides' memory allocated alike (how a large buffer is placed changes how fast the
    // kernel writes into it, which is not the library's doing).
    let (mut keys, mut values) = (vec![0u32; entries as usize], vec![0u64; entries as usize]);
    let (mut raw_keys, mut raw_values) =
        (vec![0u32; entries as usize], vec![0u64; entries as usize]);
    let mut ours = || -> Result<f64, Error> {
        let start = Instant::now();
        let n = map.batch_lookup_into(&mut keys, &mut values)?;
        Ok(n as f64 / start.elapsed().as_secs_f64())
    };
    let mut raw = || -> Result<f64, Error> {
        let start = Instant::now();
        let n = raw_batch_walk(fd, &mut raw_keys, &mut raw_values)?;
        Ok(n as f64 / start.elapsed().as_secs_f64())
    };
    ours()?;
    raw()?;
    let (mut ratios, mut ours_rates, mut raw_rates) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..pairs {
        let (o, r) = if pair % 2 == 0 {
            let o = ours()?;
            (o, raw()?)
        } else {
            let r = raw()?;
            (ours()?, r)
        };
        ratios.push(o / r);
        ours_rates.push(o);
        raw_rates.push(r);
    }
    for v in [&mut ratios, &mut ours_rates, &mut raw_rates] {
        v.sort_by(f64::total_cmp);
    }
    let mid = pairs as usize / 2;
    println!("ours.paired_batch_per_s={:.0}", ours_rates[mid]);
    println!("ours.paired_raw_batch_per_s={:.0}", raw_rates[mid]);
    println!("ours.paired_batch_ratio={:.5}", ratios[mid]);
    Ok(())
}

/// Times `lookups` calls of `f` with keys 0..1024 cycled.
fn time_lookups(lookups: u32, mut f: impl FnMut(u32)) -> Duration {
    let start = Instant::now();
    for i in 0..lookups {
        f(i % 1024);
    }
    start.elapsed()
}

/// Typed `get` against the raw bpf(2) loop in the same process, in alternating blocks (which
/// goes first alternates too), so that a change of the machine's load hits both alike; prints
/// each side's median rate and the per-pair rate ratios' (typed over raw) median and
/// quartiles. Short blocks: one that lost the CPU to another process is an outlier the
/// median leaves out.
fn paired_lookups(map: &HashMap<MapData, u32, u64>, pairs: u32, block: u32) -> Result<(), Error> {
    let fd = map.map_data().fd();
    let mut checksum = 0u64;
    let mut typed = |lookups| {
        time_lookups(lookups, |key| {
            checksum = checksum.wrapping_add(map.get(&key, 0).ok().flatten().unwrap_or(1));
        })
    };
    let mut raw_sum = 0u64;
    let mut raw = |lookups| {
        time_lookups(lookups, |key| {
            let mut value = 0;
            if raw_lookup(fd, &key, &mut value) {
                raw_sum = raw_sum.wrapping_add(value);
            }
        })
    };
    typed(block);
    raw(block);
    let (mut ratios, mut typed_rates, mut raw_rates) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..pairs {
        let (t, r) = if pair % 2 == 0 {
            let t = typed(block);
            (t, raw(block))
        } else {
            let r = raw(block);
            (typed(block), r)
        };
        ratios.push(r.as_secs_f64() / t.as_secs_f64());
        typed_rates.push(f64::from(block) / t.as_secs_f64());
        raw_rates.push(f64::from(block) / r.as_secs_f64());
    }
    if checksum != raw_sum {
        return Err(format!("typed lookups summed {checksum}, raw ones {raw_sum}").into());
    }
    let quantile = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    println!(
        "ours.paired_typed_per_s={:.0}",
        quantile(&mut typed_rates, 0.5)
    );
    println!("ours.paired_raw_per_s={:.0}", quantile(&mut raw_rates, 0.5));
    println!("ours.paired_ratio_p25={:.5}", quantile(&mut ratios, 0.25));
    println!("ours.paired_ratio={:.5}", quantile(&mut ratios, 0.5));
    println!("ours.paired_ratio_p75={:.5}", quantile(&mut ratios, 0.75));
    Ok(())
}

/// `lookups` typed (`typed`) or raw (`raw`) lookups and nothing else timed: run under
/// `valgrind --tool=callgrind` twice with different counts, the difference over the count is
/// the user-space instructions of one lookup.
fn count_lookups(how: &str, lookups: u32) -> Result<(), Error> {
    let mut map = HashMap::<_, u32, u64>::create(1024, 0)?;
    for key in 0..1024 {
        map.insert(key, u64::from(key), BPF_ANY)?;
    }
    let fd = map.map_data().fd();
    let mut sum = 0u64;
    match how {
        "typed" => {
            for i in 0..lookups {
                sum = sum.wrapping_add(map.get(&(i % 1024), 0)?.unwrap_or(1));
            }
        }
        "raw" => {
            for i in 0..lookups {
                let mut value = 0;
                sum = sum.wrapping_add(u64::from(raw_lookup(fd, &(i % 1024), &mut value)));
            }
        }
        _ => return Err(format!("count-lookups: typed or raw, not {how}").into()),
    }
    println!("count.sum={sum}");
    Ok(())
}

/// Blocks of 1000 calls of `f` (keys 0..1024 cycled), each timed, as on libbpf's side: the
/// median block's rate leaves out the blocks that lost the CPU to another process.
fn block_rate(calls: u32, mut f: impl FnMut(u32) -> Result<(), Error>) -> Result<f64, Error> {
    let mut rates = Vec::new();
    for block in 0..calls / 1000 {
        let start = Instant::now();
        for i in 0..1000 {
            f((block * 1000 + i) % 1024)?;
        }
        rates.push(1000.0 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
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
    // The caller's vectors, reused: after the untimed first walk, none allocates.
    let (mut out_keys, mut out_values) = (Vec::new(), Vec::new());
    let mut rates = Vec::new();
    for walk in 0..=WALKS {
        let start = Instant::now();
        let total = map.batch_lookup_into(&mut out_keys, &mut out_values)?;
        let elapsed = start.elapsed();
        if total != entries as usize {
            return Err(format!("batch lookup saw {total} of {entries} entries").into());
        }
        if walk > 0 {
            rates.push(total as f64 / elapsed.as_secs_f64());
        }
    }
    rates.sort_by(f64::total_cmp);
    println!("ours.batch_per_s={:.0}", rates[rates.len() / 2]);
    let start = Instant::now();
    let all = map.batch_lookup()?;
    println!(
        "ours.batch_vec_per_s={:.0}",
        all.len() as f64 / start.elapsed().as_secs_f64()
    );
    drop(all);
    let typed = block_rate(singles, |key| {
        black_box(map.get(&key, 0)?);
        Ok(())
    })?;
    println!("ours.lookup_per_s={typed:.0}");
    let fd = map.map_data().map_fd();
    let mut value = [0u8; 8];
    let bytes = block_rate(singles, |key| {
        black_box(fd.lookup(&key.to_ne_bytes(), &mut value, 0)?);
        Ok(())
    })?;
    println!("ours.bytes_lookup_per_s={bytes:.0}");
    paired_lookups(&map, 401, 1_000)?;
    paired_batches(&map, entries, 7)
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
        "count-lookups" => count_lookups(a, b.parse()?),
        _ => Err(format!("unknown mode {mode}").into()),
    }
}
