//! Map access throughput: the typed API against bpf-sys byte-slice calls on the same map,
//! and batch lookup against single lookups. Needs root (creates maps).
//!
//! `cargo bench -p bpf-programs --bench maps`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bpf_programs::maps::HashMap;
use bpf_programs::maps::flags::BPF_ANY;

const OPS: u32 = 300_000;
const ROUNDS: usize = 7;
const KEYS: u32 = 1024;
const BIG: u32 = 1_000_000;

/// Best (shortest) time of `ROUNDS` runs of `f`, run alternately with the others by the caller.
fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn rate(ops: u64, d: Duration) -> f64 {
    ops as f64 / d.as_secs_f64()
}

fn main() {
    let mut map = match HashMap::<_, u32, u64>::create(BIG, 0) {
        Ok(map) => map,
        Err(e) => {
            eprintln!("SKIPPED maps bench: cannot create a map ({e}); run as root");
            return;
        }
    };
    for k in 0..KEYS {
        map.insert(k, u64::from(k), BPF_ANY).expect("prefill");
    }

    let mut typed_lookup = Vec::new();
    let mut raw_lookup = Vec::new();
    let mut typed_update = Vec::new();
    let mut raw_update = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for i in 0..OPS {
            black_box(map.get(&(i % KEYS), 0).expect("lookup"));
        }
        typed_lookup.push(start.elapsed());

        let fd = map.map_data().map_fd();
        let start = Instant::now();
        let mut value = [0u8; 8];
        for i in 0..OPS {
            let key = (i % KEYS).to_ne_bytes();
            black_box(fd.lookup(&key, &mut value, 0).expect("raw lookup"));
        }
        raw_lookup.push(start.elapsed());

        let start = Instant::now();
        for i in 0..OPS {
            map.insert(i % KEYS, u64::from(i), BPF_ANY).expect("update");
        }
        typed_update.push(start.elapsed());

        let fd = map.map_data().map_fd();
        let start = Instant::now();
        for i in 0..OPS {
            let key = (i % KEYS).to_ne_bytes();
            let value = u64::from(i).to_ne_bytes();
            fd.update(&key, &value, 0).expect("raw update");
        }
        raw_update.push(start.elapsed());
    }
    let ops = u64::from(OPS);
    let (tl, rl) = (rate(ops, best(&typed_lookup)), rate(ops, best(&raw_lookup)));
    let (tu, ru) = (rate(ops, best(&typed_update)), rate(ops, best(&raw_update)));
    println!("single-element ops on a hash map (u32 -> u64), best of {ROUNDS} × {OPS} ops:");
    println!(
        "  lookup: typed {tl:>10.0} ops/s   bpf-sys bytes {rl:>10.0} ops/s   typed/raw {:.3}",
        tl / rl
    );
    println!(
        "  update: typed {tu:>10.0} ops/s   bpf-sys bytes {ru:>10.0} ops/s   typed/raw {:.3}",
        tu / ru
    );

    // A full map: one batch walk against one lookup per key.
    let keys: Vec<u32> = (0..BIG).collect();
    let values: Vec<u64> = keys.iter().map(|&k| u64::from(k) * 3).collect();
    for (k, v) in keys.chunks(65536).zip(values.chunks(65536)) {
        map.batch_update(k, v, BPF_ANY).expect("batch update");
    }
    let start = Instant::now();
    let all = map.batch_lookup().expect("batch lookup");
    let batch = start.elapsed();
    assert_eq!(all.len(), BIG as usize);
    let start = Instant::now();
    for k in &keys {
        black_box(map.get(k, 0).expect("lookup"));
    }
    let single = start.elapsed();
    // The same walk through bpf-sys with preallocated buffers: the kernel's share.
    let fd = map.map_data().map_fd();
    let chunk = 4096u32;
    let (mut keys_buf, mut values_buf) = (vec![0u8; 4 * 4096], vec![0u8; 8 * 4096]);
    let (mut in_token, mut out_token) = ([0u8; 4], [0u8; 4]);
    let start = Instant::now();
    let mut total = 0u64;
    let mut first = true;
    loop {
        let bufs = bpf_sys::map::BatchBuffers {
            in_batch: if first { None } else { Some(&in_token) },
            out_batch: &mut out_token,
            keys: &mut keys_buf,
            values: &mut values_buf,
        };
        let outcome = fd.lookup_batch(bufs, chunk, 0).expect("raw batch");
        total += u64::from(outcome.count);
        if outcome.done {
            break;
        }
        in_token = out_token;
        first = false;
    }
    let raw_batch = start.elapsed();
    println!(
        "  bpf-sys lookup_batch (4096/call, no allocation): {:.0} entries/s",
        rate(total, raw_batch)
    );
    for chunk in [1024u32, 16384, 65536] {
        let start = Instant::now();
        let n = map.batch_lookup_chunked(chunk).expect("batch lookup").len();
        let d = start.elapsed();
        println!(
            "  batch_lookup_chunked({chunk}): {:.0} entries/s",
            rate(n as u64, d)
        );
    }
    let (b, s) = (rate(u64::from(BIG), batch), rate(u64::from(BIG), single));
    println!("whole-map read of {BIG} entries:");
    println!(
        "  batch_lookup {b:>11.0} entries/s ({batch:?})   single lookups {s:>10.0} entries/s ({single:?})   batch/single {:.1}x",
        b / s
    );
}
