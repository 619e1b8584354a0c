//! Cost of single-element and batch map syscalls through bpf-sys (needs root).
//!
//! `cargo bench -p bpf-sys --bench map_ops` prints nanoseconds per element for each operation.

use std::time::{Duration, Instant};

use bpf_sys::generated::bpf_map_type;
use bpf_sys::map::{BatchBuffers, MapCreateAttr, MapFd};

const ENTRIES: u32 = 4096;

fn measure(name: &str, elements: u64, mut f: impl FnMut()) {
    f(); // warm up
    let mut rounds = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        f();
        rounds += 1;
    }
    let per = start.elapsed().as_nanos() as f64 / (rounds * elements) as f64;
    println!("{name:<28} {per:>8.1} ns/element ({rounds} rounds of {elements})");
}

fn main() {
    let map = match MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_HASH,
        key_size: 4,
        value_size: 8,
        max_entries: ENTRIES,
        name: "bench_hash",
        ..Default::default()
    }) {
        Ok(map) => map,
        Err(e) => {
            println!("SKIPPED map_ops: {e}");
            return;
        }
    };
    let keys: Vec<u8> = (0..ENTRIES).flat_map(u32::to_ne_bytes).collect();
    let values: Vec<u8> = (0..u64::from(ENTRIES)).flat_map(u64::to_ne_bytes).collect();

    measure("update (one by one)", u64::from(ENTRIES), || {
        for (k, v) in keys.chunks_exact(4).zip(values.chunks_exact(8)) {
            map.update(k, v, 0).unwrap();
        }
    });
    let mut value = [0u8; 8];
    measure("lookup (one by one)", u64::from(ENTRIES), || {
        for k in keys.chunks_exact(4) {
            assert!(map.lookup(k, &mut value, 0).unwrap());
        }
    });
    measure("update_batch", u64::from(ENTRIES), || {
        assert_eq!(map.update_batch(&keys, &values, 0).unwrap(), ENTRIES);
    });
    let mut out_keys = vec![0u8; keys.len()];
    let mut out_values = vec![0u8; values.len()];
    let mut token = [0u8; 4];
    measure("lookup_batch", u64::from(ENTRIES), || {
        let outcome = map
            .lookup_batch(
                BatchBuffers {
                    in_batch: None,
                    out_batch: &mut token,
                    keys: &mut out_keys,
                    values: &mut out_values,
                },
                ENTRIES,
                0,
            )
            .unwrap();
        assert_eq!(outcome.count, ENTRIES);
    });
    let mut next = [0u8; 4];
    measure("get_next_key walk", u64::from(ENTRIES), || {
        let mut prev: Option<[u8; 4]> = None;
        while map
            .next_key(prev.as_ref().map(|k| &k[..]), &mut next)
            .unwrap()
        {
            prev = Some(next);
        }
    });
}
