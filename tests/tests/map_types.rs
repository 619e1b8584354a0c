//! The other map types from user space: arrays, queues, stacks, bloom filters, tries,
//! maps of maps, redirect maps, socket maps, stack traces.

use std::os::fd::AsFd;

use bpf_programs::maps::flags::{BPF_ANY, BPF_EXIST, BPF_F_NO_PREALLOC};
use bpf_programs::maps::lpm_trie::Key;
use bpf_programs::maps::{
    Array, ArrayOfMaps, BloomFilter, CpuMap, DevMap, DevMapHash, HashMap, HashOfMaps, LpmTrie, Map,
    MapError, PerCpuArray, PerCpuValues, Queue, SockHash, SockMap, Stack, StackTraceMap, nr_cpus,
};

#[test]
fn array_get_set_bounds_batch() {
    let mut a = Array::<_, [u32; 3]>::create(10, 0).unwrap();
    assert_eq!(a.len(), 10);
    assert_eq!(a.get(3, 0).unwrap(), [0; 3]);
    a.set(3, [1, 2, 3], BPF_ANY).unwrap();
    assert_eq!(a.get(3, 0).unwrap(), [1, 2, 3]);
    assert!(matches!(
        a.get(10, 0),
        Err(MapError::OutOfBounds {
            index: 10,
            max_entries: 10,
            ..
        })
    ));
    assert!(matches!(
        a.set(11, [0; 3], 0),
        Err(MapError::OutOfBounds { .. })
    ));
    let all = a.batch_lookup().unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all[3], [1, 2, 3]);
    let iterated: Vec<_> = a.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(iterated, all);
}

#[test]
fn per_cpu_array_values_per_cpu() {
    let cpus = nr_cpus().unwrap();
    // A 4-byte value occupies an 8-byte slot per CPU in user space.
    let mut a = PerCpuArray::<_, u32>::create(2, 0).unwrap();
    let v = PerCpuValues::new((0..cpus as u32).map(|c| 0xA0 + c).collect()).unwrap();
    a.set(1, &v, BPF_ANY).unwrap();
    let got = a.get(1, 0).unwrap();
    for cpu in 0..cpus {
        assert_eq!(got[cpu], 0xA0 + cpu as u32);
    }
    assert!(a.get(0, 0).unwrap().iter().all(|&x| x == 0));
    let all = a.batch_lookup().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], v);
}

#[test]
fn queue_and_stack_order() {
    let mut q = Queue::<_, u64>::create(4, 0).unwrap();
    let mut s = Stack::<_, u64>::create(4, 0).unwrap();
    assert_eq!(q.pop().unwrap(), None);
    for i in 1..=4u64 {
        q.push(i, BPF_ANY).unwrap();
        s.push(i, BPF_ANY).unwrap();
    }
    assert_eq!(q.push(5, BPF_ANY).unwrap_err().errno(), Some(libc::E2BIG));
    // BPF_EXIST drops the oldest element to make room.
    q.push(5, BPF_EXIST).unwrap();
    assert_eq!(q.peek().unwrap(), Some(2));
    assert_eq!(s.peek().unwrap(), Some(4));
    let qs: Vec<u64> = std::iter::from_fn(|| q.pop().unwrap()).collect();
    let ss: Vec<u64> = std::iter::from_fn(|| s.pop().unwrap()).collect();
    assert_eq!(qs, [2, 3, 4, 5]);
    assert_eq!(ss, [4, 3, 2, 1]);
}

#[test]
fn bloom_filter_has_no_false_negatives() {
    if !integration_tests::kernel_btf_has_name("BPF_MAP_TYPE_BLOOM_FILTER") {
        integration_tests::skip(
            "map_types::bloom_filter_has_no_false_negatives",
            "the kernel has no bloom filter maps (no BPF_MAP_TYPE_BLOOM_FILTER in its BTF)",
        );
        return;
    }
    let mut b = BloomFilter::<_, u64>::create(1000, 3, 0).unwrap();
    for i in 0..500u64 {
        b.insert(i * 7, BPF_ANY).unwrap();
    }
    for i in 0..500u64 {
        assert!(b.contains(&(i * 7)).unwrap());
    }
    let false_positives = (0..500u64)
        .filter(|i| b.contains(&(i * 7 + 3)).unwrap())
        .count();
    assert!(false_positives < 250, "{false_positives} false positives");
}

#[test]
fn lpm_trie_longest_match() {
    let mut t = LpmTrie::<_, [u8; 4], u32>::create(16, BPF_F_NO_PREALLOC).unwrap();
    t.insert(&Key::new(8, [10, 0, 0, 0]), 8, BPF_ANY).unwrap();
    t.insert(&Key::new(24, [10, 1, 2, 0]), 24, BPF_ANY).unwrap();
    assert_eq!(t.get(&Key::new(32, [10, 1, 2, 3]), 0).unwrap(), Some(24));
    assert_eq!(t.get(&Key::new(32, [10, 9, 9, 9]), 0).unwrap(), Some(8));
    assert_eq!(t.get(&Key::new(32, [11, 0, 0, 1]), 0).unwrap(), None);
    let mut keys = t.keys().unwrap();
    keys.sort_by_key(|k| k.prefix_len);
    assert_eq!(
        keys,
        [Key::new(8, [10, 0, 0, 0]), Key::new(24, [10, 1, 2, 0])]
    );
    t.remove(&Key::new(24, [10, 1, 2, 0])).unwrap();
    assert_eq!(t.get(&Key::new(32, [10, 1, 2, 3]), 0).unwrap(), Some(8));
}

#[test]
fn maps_of_maps_hold_inner_ids() {
    let inner = HashMap::<_, u32, u32>::create(4, 0).unwrap();
    let inner_id = inner.info().unwrap().id();
    let mut outer = ArrayOfMaps::create(4, inner.fd()).unwrap();
    outer.set(2, inner.fd(), BPF_ANY).unwrap();
    assert_eq!(outer.get(2).unwrap(), Some(inner_id));
    assert_eq!(outer.get(1).unwrap(), None);
    outer.clear_index(2).unwrap();
    assert_eq!(outer.get(2).unwrap(), None);

    let mut h = HashOfMaps::<_, u64>::create(4, inner.fd()).unwrap();
    h.insert(&77, inner.fd(), BPF_ANY).unwrap();
    assert_eq!(h.get(&77).unwrap(), Some(inner_id));
    assert_eq!(h.keys().collect::<Result<Vec<_>, _>>().unwrap(), [77]);
    // An incompatible inner map is refused by the kernel.
    let other = Array::<_, u64>::create(4, 0).unwrap();
    assert!(h.insert(&1, other.fd(), BPF_ANY).is_err());
}

#[test]
fn redirect_maps_store_targets() {
    let lo = 1; // loopback's ifindex
    let mut d = DevMap::create(4, 0).unwrap();
    d.set(0, lo, None, BPF_ANY).unwrap();
    let slot = d.get(0).unwrap().unwrap();
    assert_eq!((slot.ifindex, slot.prog_id), (lo, None));
    let mut dh = DevMapHash::create(4, 0).unwrap();
    dh.set(lo, lo, None, BPF_ANY).unwrap();
    assert_eq!(dh.get(lo).unwrap().unwrap().ifindex, lo);
    assert_eq!(dh.get(5).unwrap(), None);
    let mut c = CpuMap::create(nr_cpus().unwrap() as u32, 0).unwrap();
    c.set(0, 192, None, BPF_ANY).unwrap();
    assert_eq!(c.get(0).unwrap().unwrap().queue_size, 192);
}

#[test]
fn socket_maps_accept_sockets() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut m = SockMap::create(4, 0).unwrap();
    m.set(1, sock.as_fd(), BPF_ANY).unwrap();
    m.clear_index(1).unwrap();
    let again = m.clear_index(1).unwrap_err();
    // The kernel reports an empty sockmap slot as EINVAL, not ENOENT.
    assert_eq!(
        again.command(),
        Some(bpf_sys::BpfCommand::MapDeleteElem.into()),
        "{again}"
    );
    let mut h = SockHash::<_, u32>::create(4, 0).unwrap();
    h.insert(&9, sock.as_fd(), BPF_ANY).unwrap();
    assert_eq!(h.keys().collect::<Result<Vec<_>, _>>().unwrap(), [9]);
    h.remove(&9).unwrap();
}

#[test]
fn stack_trace_map_is_empty_until_a_program_records() {
    let m = StackTraceMap::create(16, 127, 0).unwrap();
    assert_eq!(m.stack_ids().count(), 0);
    assert_eq!(m.get(3).unwrap(), None);
    let as_map = Map::from(m.into_inner());
    assert!(matches!(as_map, Map::StackTraceMap(_)));
}
