//! Hash maps from user space: typed access, size checks, iteration, batches, per-CPU values.

use bpf_programs::maps::flags::{BPF_ANY, BPF_EXIST, BPF_NOEXIST};
use bpf_programs::maps::{
    HashMap, LruHashMap, LruPerCpuHashMap, Map, MapData, MapError, PerCpuHashMap, PerCpuValues,
    nr_cpus,
};
use integration_tests::error_chain;

#[test]
fn insert_get_remove() {
    let mut map = HashMap::<_, u32, u64>::create(16, 0).unwrap();
    assert_eq!(map.get(&1, 0).unwrap(), None);
    map.insert(1, 100, BPF_ANY).unwrap();
    map.insert(2u32, 200u64, BPF_NOEXIST).unwrap();
    assert_eq!(map.get(&1, 0).unwrap(), Some(100));
    let dup = map.insert(1, 5, BPF_NOEXIST).unwrap_err();
    assert_eq!(dup.errno(), Some(libc::EEXIST));
    assert!(matches!(dup, MapError::KeyExists { .. }), "{dup:?}");
    assert!(error_chain(&dup).contains("BPF_MAP_UPDATE_ELEM"), "{dup}");
    assert!(dup.to_string().contains("HashMap"), "{dup}");
    assert_eq!(
        map.insert(3, 5, BPF_EXIST).unwrap_err().errno(),
        Some(libc::ENOENT)
    );
    map.remove(&1).unwrap();
    assert!(matches!(map.remove(&1), Err(MapError::KeyNotFound { .. })));
    // Hash maps take BPF_MAP_LOOKUP_AND_DELETE_ELEM since bpf_map_ops gained it (Linux 5.14).
    if integration_tests::kernel_btf_has_name("map_lookup_and_delete_elem") {
        assert_eq!(map.take(&2).unwrap(), Some(200));
        assert_eq!(map.get(&2, 0).unwrap(), None);
    } else {
        assert!(map.take(&2).is_err(), "older kernels refuse it");
        assert_eq!(map.get(&2, 0).unwrap(), Some(200), "and leave the entry");
    }
}

#[test]
fn sizes_are_checked() {
    let map = HashMap::<_, u32, u64>::create(4, 0).unwrap();
    let data = map.into_inner();
    let as_map = Map::from(data);
    assert!(matches!(as_map, Map::HashMap(_)));
    let wrong_key = HashMap::<_, u64, u64>::try_from(&as_map).unwrap_err();
    assert!(
        matches!(
            wrong_key,
            MapError::KeySize {
                expected: 4,
                actual: 8,
                ..
            }
        ),
        "{wrong_key}"
    );
    let wrong_value = HashMap::<_, u32, u32>::try_from(&as_map).unwrap_err();
    assert!(matches!(
        wrong_value,
        MapError::ValueSize {
            expected: 8,
            actual: 4,
            ..
        }
    ));
    let wrong_type =
        bpf_programs::maps::PerCpuHashMap::<_, u32, u64>::try_from(&as_map).unwrap_err();
    assert!(
        matches!(wrong_type, MapError::WrongType { .. }),
        "{wrong_type}"
    );
    // LRU maps are hash maps too; the owned conversion keeps the map.
    let owned = HashMap::<_, u32, u64>::try_from(as_map).unwrap();
    assert_eq!(owned.map_data().max_entries(), 4);
}

#[test]
fn keys_iter_and_concurrent_deletes() {
    let mut map = HashMap::<_, u32, u32>::create(1024, 0).unwrap();
    for i in 0..1000u32 {
        map.insert(i, i * 2, BPF_ANY).unwrap();
    }
    let mut keys: Vec<u32> = map.keys().collect::<Result<_, _>>().unwrap();
    keys.sort();
    assert_eq!(keys, (0..1000).collect::<Vec<_>>());

    // Delete every other key while walking: the walk must not stop early, and every
    // surviving entry it yields has the right value.
    let other = MapData::from_fd(map.fd().try_clone_to_owned().unwrap()).unwrap();
    let mut other = HashMap::<_, u32, u32>::new(other).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (n, entry) in map.iter().enumerate() {
        let (k, v) = entry.unwrap();
        assert_eq!(v, k * 2);
        seen.insert(k);
        if n < 500 {
            let victim = (k + 1) % 1000;
            let _ = other.remove(&victim);
        }
        assert!(n < 10_000, "walk does not terminate");
    }
    let remaining: std::collections::BTreeSet<u32> = map.keys().collect::<Result<_, _>>().unwrap();
    assert!(remaining.len() < 1000);
    // Every key still present at the end was seen by the walk.
    assert!(remaining.is_subset(&seen), "walk missed surviving keys");
}

#[test]
fn batch_update_lookup_delete() {
    let mut map = HashMap::<_, u64, [u8; 12]>::create(100_000, 0).unwrap();
    let keys: Vec<u64> = (0..50_000).collect();
    let values: Vec<[u8; 12]> = keys.iter().map(|&k| [k as u8; 12]).collect();
    assert_eq!(map.batch_update(&keys, &values, BPF_ANY).unwrap(), 50_000);
    let mut all = map.batch_lookup().unwrap();
    all.sort_by_key(|(k, _)| *k);
    assert_eq!(all.len(), 50_000);
    for (k, v) in &all {
        assert_eq!(*v, [*k as u8; 12]);
    }
    // Small chunks force many calls and bucket-size retries.
    assert_eq!(map.batch_lookup_chunked(3).unwrap().len(), 50_000);
    assert_eq!(map.batch_remove(&keys[..10_000]).unwrap(), 10_000);
    assert_eq!(map.batch_lookup().unwrap().len(), 40_000);
    let taken = map.batch_take_all().unwrap();
    assert_eq!(taken.len(), 40_000);
    assert_eq!(map.keys().count(), 0);
}

/// The caller's vectors are written over in place: stale entries from a longer earlier walk
/// or from the caller never survive, and the count and contents match the map each time.
#[test]
fn batch_lookup_into_reuses_the_callers_vectors() {
    let mut map = HashMap::<_, u32, u64>::create(20_000, 0).unwrap();
    let keys: Vec<u32> = (0..10_000).collect();
    let values: Vec<u64> = keys.iter().map(|&k| u64::from(k) * 7 + 1).collect();
    map.batch_update(&keys, &values, BPF_ANY).unwrap();
    // Garbage the walk must replace, longer than the map.
    let (mut out_keys, mut out_values) = (vec![u32::MAX; 15_000], vec![u64::MAX; 15_000]);
    let check = |out_keys: &[u32], out_values: &[u64], expected: usize| {
        assert_eq!(out_keys.len(), expected);
        assert_eq!(out_values.len(), expected);
        let mut seen = vec![false; 10_000];
        for (&k, &v) in out_keys.iter().zip(out_values) {
            assert_eq!(v, u64::from(k) * 7 + 1, "value of key {k}");
            assert!(
                !std::mem::replace(&mut seen[k as usize], true),
                "key {k} twice"
            );
        }
    };
    assert_eq!(
        map.batch_lookup_into(&mut out_keys, &mut out_values)
            .unwrap(),
        10_000
    );
    check(&out_keys, &out_values, 10_000);
    let capacity = (out_keys.capacity(), out_values.capacity());
    assert_eq!(
        map.batch_lookup_into(&mut out_keys, &mut out_values)
            .unwrap(),
        10_000
    );
    check(&out_keys, &out_values, 10_000);
    assert_eq!(
        (out_keys.capacity(), out_values.capacity()),
        capacity,
        "reallocated"
    );
    // A smaller map afterwards: the vectors shrink to it.
    map.batch_remove(&keys[..6_000]).unwrap();
    assert_eq!(
        map.batch_lookup_into(&mut out_keys, &mut out_values)
            .unwrap(),
        4_000
    );
    check(&out_keys, &out_values, 4_000);
    assert!(out_keys.iter().all(|&k| k >= 6_000));
}

#[test]
fn per_cpu_values_per_cpu() {
    let cpus = nr_cpus().unwrap();
    let mut map = PerCpuHashMap::<_, u32, u32>::create(8, 0).unwrap();
    let values = PerCpuValues::new((0..cpus as u32).map(|c| 10 + c).collect()).unwrap();
    map.insert(7, &values, BPF_ANY).unwrap();
    let got = map.get(&7, 0).unwrap().unwrap();
    assert_eq!(got.len(), cpus);
    for (cpu, v) in got.iter().enumerate() {
        assert_eq!(*v, 10 + cpu as u32, "cpu {cpu}");
    }
    let all = map.batch_lookup().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].1, values);
    let entries: Vec<_> = map.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(entries, vec![(7, values)]);
    map.remove(&7).unwrap();
    assert_eq!(map.get(&7, 0).unwrap(), None);
}

#[test]
fn lru_maps_evict() {
    let mut map = LruHashMap::<_, u32, u32>::create(64, 0).unwrap();
    for i in 0..1000u32 {
        map.insert(i, i, BPF_ANY).unwrap();
    }
    let n = map.keys().count();
    assert!(n <= 64 + 64 * nr_cpus().unwrap(), "LRU kept {n}");
    assert!(map.get(&999, 0).unwrap() == Some(999));
    let mut pc = LruPerCpuHashMap::<_, u32, u64>::create(16, 0).unwrap();
    pc.insert(1, &PerCpuValues::splat(5).unwrap(), BPF_ANY)
        .unwrap();
    assert!(pc.get(&1, 0).unwrap().unwrap().iter().all(|&v| v == 5));
}

#[test]
fn iteration_survives_a_deleting_thread() {
    let mut map = HashMap::<_, u32, u32>::create(4096, 0).unwrap();
    for i in 0..4000u32 {
        map.insert(i, i + 1, BPF_ANY).unwrap();
    }
    let other = MapData::from_fd(map.fd().try_clone_to_owned().unwrap()).unwrap();
    let deleter = std::thread::spawn(move || {
        let mut other = HashMap::<_, u32, u32>::new(other).unwrap();
        let mut deleted = 0;
        for i in (0..4000u32).rev().step_by(2) {
            if other.remove(&i).is_ok() {
                deleted += 1;
            }
        }
        deleted
    });
    let mut yielded = 0usize;
    for _ in 0..20 {
        for entry in map.iter() {
            let (k, v) = entry.unwrap();
            assert_eq!(v, k + 1, "entry yielded with a foreign value");
            yielded += 1;
            assert!(yielded < 1_000_000, "walk does not terminate");
        }
    }
    assert_eq!(deleter.join().unwrap(), 2000);
    let left: Vec<u32> = map.keys().collect::<Result<_, _>>().unwrap();
    assert_eq!(left.len(), 2000);
    assert!(left.iter().all(|k| k % 2 == 0));
}
