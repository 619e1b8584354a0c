//! Maps shared with programs: a program fills maps user space reads, user space fills maps
//! a program reads (programs run with BPF_PROG_TEST_RUN on chosen CPUs).

mod map_support;

use bpf_programs::maps::flags::BPF_ANY;
use bpf_programs::maps::{
    Array, BloomFilter, GlobalData, HashMap, Map, MapError, PerCpuArray, ProgramArray, Queue,
    RingBuf, StackTraceMap, nr_cpus,
};
use integration_tests::{kernel_btf_has_name, skip};

#[test]
fn program_fills_user_space_reads() {
    let mut obj = map_support::load("map_programs.bpf.o", |o| {
        o.set_global("multiplier", &3u32);
    });
    obj.run_on_cpu("fill", 0);

    let counts = HashMap::<_, u32, u64>::try_from(obj.map("counts")).unwrap();
    let mut entries = counts.batch_lookup().unwrap();
    entries.sort();
    let expected: Vec<(u32, u64)> = (0..16).map(|i| (i, u64::from(i) * 30)).collect();
    assert_eq!(
        entries, expected,
        "the .rodata constant set before load is used"
    );
    let mut walked: Vec<_> = counts.iter().collect::<Result<_, _>>().unwrap();
    walked.sort();
    assert_eq!(walked, expected);

    let mut queue = Queue::<_, u32>::try_from(obj.map_mut("events_queue")).unwrap();
    let popped: Vec<u32> = std::iter::from_fn(|| queue.pop().unwrap()).collect();
    assert_eq!(popped, [100, 101, 102]);

    let bss = GlobalData::try_from(obj.map(".bss")).unwrap();
    assert_eq!(bss.get::<u64>("runs").unwrap(), 1);
    let data = GlobalData::try_from(obj.map(".data")).unwrap();
    let id = data.get::<i64>("stack_id").unwrap();
    assert!(id >= 0, "bpf_get_stackid failed: {id}");
    let stacks = StackTraceMap::try_from(obj.map("stacks")).unwrap();
    let trace = stacks.get(id as u32).unwrap().expect("recorded stack");
    assert!(!trace.frames.is_empty());
    assert!(trace.frames.iter().all(|&ip| ip != 0));
    assert_eq!(
        stacks.stack_ids().collect::<Result<Vec<_>, _>>().unwrap(),
        [id as u32]
    );
    // Typed access with the wrong size is refused, not truncated.
    assert!(matches!(
        bss.get::<u32>("runs"),
        Err(MapError::VariableSize {
            expected: 8,
            actual: 4,
            ..
        })
    ));
    assert!(matches!(
        bss.get::<u64>("nope"),
        Err(MapError::NoSuchVariable { .. })
    ));
}

#[test]
fn per_cpu_counts_per_cpu() {
    let cpus = nr_cpus().unwrap();
    let obj = map_support::load("map_programs.bpf.o", |_| {});
    let online = std::thread::available_parallelism().map_or(1, |n| n.get());
    let used = cpus.min(online).min(4);
    for cpu in 0..used {
        for _ in 0..=cpu {
            obj.run_on_cpu("fill", cpu as u32);
        }
    }
    let hits = PerCpuArray::<_, u64>::try_from(obj.map("percpu_hits")).unwrap();
    let values = hits.get(0, 0).unwrap();
    assert_eq!(values.len(), cpus);
    for cpu in 0..used {
        assert_eq!(values[cpu], cpu as u64 + 1, "cpu {cpu}");
    }
}

#[test]
fn user_space_fills_program_reads() {
    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    {
        let mut input = Array::<_, u32>::try_from(obj.map_mut("input")).unwrap();
        for i in 0..8 {
            input.set(i, i + 1, BPF_ANY).unwrap();
        }
    }
    {
        let mut data = GlobalData::try_from(obj.map_mut(".data")).unwrap();
        assert_eq!(data.get::<u32>("scale").unwrap(), 2);
        data.set("scale", &5u32).unwrap();
    }
    obj.run_on_cpu("fill", 0);
    let bss = GlobalData::try_from(obj.map(".bss")).unwrap();
    assert_eq!(bss.get::<u64>("input_sum").unwrap(), 36 * 5);
}

#[test]
fn bloom_filter_filled_by_user_space_is_probed_by_a_program() {
    if !kernel_btf_has_name("BPF_MAP_TYPE_BLOOM_FILTER") {
        skip(
            "map_programs::bloom_filter_filled_by_user_space_is_probed_by_a_program",
            "the kernel has no bloom filter maps (no BPF_MAP_TYPE_BLOOM_FILTER in its BTF)",
        );
        return;
    }
    let mut obj = map_support::load("map_bloom.bpf.o", |_| {});
    assert!(matches!(obj.map("seen"), Map::BloomFilter(_)));
    {
        let mut seen = BloomFilter::<_, u32>::try_from(obj.map_mut("seen")).unwrap();
        seen.insert(0u32, BPF_ANY).unwrap();
        seen.insert(14u32, BPF_ANY).unwrap();
    }
    obj.run_on_cpu("probe_seen", 0);
    let bss = GlobalData::try_from(obj.map(".bss")).unwrap();
    // 0 and 14 were inserted; 7 and 21 were not (a false positive would set their bits).
    let bloom = bss.get::<u32>("bloom_hits").unwrap();
    assert_eq!(bloom & 0b101, 0b101, "bloom hits {bloom:#b}");
}

#[test]
fn rodata_is_frozen_and_readable() {
    let mut obj = map_support::load("map_programs.bpf.o", |o| {
        o.set_global("multiplier", &4u32);
    });
    let mut rodata = GlobalData::try_from(obj.map_mut(".rodata")).unwrap();
    assert!(!rodata.is_writable());
    assert_eq!(rodata.get::<u32>("multiplier").unwrap(), 4);
    assert!(rodata.set("multiplier", &9u32).is_err());
    drop(rodata);
    let write = Array::<_, [u8; 4]>::try_from(obj.map_mut(".rodata"))
        .unwrap()
        .set(0, [0; 4], BPF_ANY)
        .unwrap_err();
    assert_eq!(write.errno(), Some(libc::EPERM), "{write}");
    let as_array = Array::<_, [u8; 4]>::try_from(obj.map(".rodata")).unwrap();
    assert_eq!(as_array.get(0, 0).unwrap(), 4u32.to_ne_bytes());
}

#[test]
fn ring_buffer_records_in_order_without_discarded() {
    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    let mut rb = RingBuf::try_from(obj.take_map("records")).unwrap();
    assert!(rb.next().is_none());
    // 5 reservations × 16 bytes per run; 4096 bytes hold 256 records, so run 20 times
    // (wrapping the buffer) while draining.
    let mut got = Vec::new();
    for _ in 0..100 {
        obj.run_on_cpu("fill", 0);
        while let Some(item) = rb.next() {
            assert_eq!(item.len(), 8);
            let seq = u32::from_ne_bytes(item[..4].try_into().unwrap());
            let run = u32::from_ne_bytes(item[4..].try_into().unwrap());
            got.push((run, seq));
        }
    }
    let expected: Vec<(u32, u32)> = (1..=100)
        .flat_map(|run| [0, 1, 3, 4].map(|seq| (run, seq)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn tail_call_through_program_array() {
    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    let target = obj.program("target").try_clone_to_owned().unwrap();
    assert_eq!(
        obj.run_on_cpu("jump", 0).retval,
        1,
        "empty slot: no tail call"
    );
    let mut table = ProgramArray::try_from(obj.map_mut("jump_table")).unwrap();
    table
        .set(1, std::os::fd::AsFd::as_fd(&target), BPF_ANY)
        .unwrap();
    assert!(matches!(
        table.set(4, std::os::fd::AsFd::as_fd(&target), BPF_ANY),
        Err(MapError::OutOfBounds { .. })
    ));
    assert_eq!(obj.run_on_cpu("jump", 0).retval, 7);
    let bss = GlobalData::try_from(obj.map(".bss")).unwrap();
    assert_eq!(bss.get::<u32>("tail_called").unwrap(), 42);
    let mut table = ProgramArray::try_from(obj.map_mut("jump_table")).unwrap();
    table.clear_index(1).unwrap();
    assert_eq!(obj.run_on_cpu("jump", 0).retval, 1);
}

#[test]
fn map_enum_variants_follow_types() {
    let obj = map_support::load("map_programs.bpf.o", |_| {});
    assert!(matches!(obj.map("counts"), Map::HashMap(_)));
    assert!(matches!(obj.map("records"), Map::RingBuf(_)));
    assert!(matches!(obj.map(".bss"), Map::Array(_)));
    assert!(matches!(obj.map("jump_table"), Map::ProgramArray(_)));
    let info = obj.map("counts").data().info().unwrap();
    assert_eq!(info.name(), "counts");
    let all: Vec<_> = bpf_programs::maps::loaded_maps()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        all.iter()
            .any(|m| m.id() == info.id() && m.name() == "counts")
    );
}

#[test]
fn perf_event_array_samples_per_cpu() {
    use bpf_programs::maps::PerfEventArray;
    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    let online = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpus = nr_cpus().unwrap().min(online).min(4) as u32;
    let mut perf = PerfEventArray::try_from(obj.take_map("perf_events")).unwrap();
    let mut buffers: Vec<_> = (0..cpus).map(|cpu| perf.open(cpu, 1).unwrap()).collect();
    assert!(!buffers[0].readable());
    // Enough samples on CPU 0 to wrap its one-page ring several times, draining as we go.
    let mut samples = Vec::new();
    for round in 0..20 {
        for _ in 0..50 {
            obj.run_on_cpu("perf_out", 0);
        }
        let events = buffers[0].read_events(&mut samples).unwrap();
        assert_eq!(events.read, 50, "round {round}");
        assert_eq!(events.lost, 0);
    }
    let seqs: Vec<u32> = samples
        .iter()
        .map(|s| u32::from_ne_bytes(s[..4].try_into().unwrap()))
        .collect();
    assert_eq!(seqs, (0..1000).collect::<Vec<_>>());
    assert!(
        samples
            .iter()
            .all(|s| s.len() >= 8 && s[4..8] == 0u32.to_ne_bytes())
    );
    for cpu in 1..cpus {
        obj.run_on_cpu("perf_out", cpu);
        let mut got = Vec::new();
        let events = buffers[cpu as usize].read_events(&mut got).unwrap();
        assert_eq!(events.read, 1, "cpu {cpu}");
        assert_eq!(
            got[0][4..8],
            cpu.to_ne_bytes(),
            "sample landed on its CPU's buffer"
        );
    }
}

#[test]
fn ring_buffer_fd_wakes_epoll() {
    use bpf_sys::epoll::Epoll;
    use std::os::fd::AsFd;
    use std::time::Duration;

    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    let mut rb = RingBuf::try_from(obj.take_map("records")).unwrap();
    let epoll = Epoll::new().unwrap();
    epoll.add(rb.as_fd(), 7).unwrap();
    let mut ready = [0u64; 4];
    assert_eq!(
        epoll
            .wait(&mut ready, Some(Duration::from_millis(10)))
            .unwrap(),
        0,
        "nothing to read yet"
    );
    obj.run_on_cpu("fill", 0);
    let n = epoll
        .wait(&mut ready, Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!((n, ready[0]), (1, 7), "the ring buffer fd became readable");
    let mut count = 0;
    while rb.next().is_some() {
        count += 1;
    }
    assert_eq!(count, 4);
}

#[test]
fn perf_buffer_polls_every_online_cpu() {
    use bpf_programs::maps::{PerfBuffer, PerfEventArray};
    use std::time::Duration;

    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    let mut perf = PerfEventArray::try_from(obj.take_map("perf_events")).unwrap();
    let mut buffer = PerfBuffer::new(&mut perf, 1).unwrap();
    let cpus: Vec<u32> = buffer.cpus().collect();
    assert!(!cpus.is_empty());
    let none = buffer
        .poll(
            Some(Duration::from_millis(10)),
            |_, _| panic!("no sample yet"),
            |_, _| {},
        )
        .unwrap();
    assert_eq!(none, 0);
    for &cpu in &cpus {
        obj.run_on_cpu("perf_out", cpu);
    }
    let mut seen = Vec::new();
    while seen.len() < cpus.len() {
        let handled = buffer
            .poll(
                Some(Duration::from_secs(5)),
                |cpu, sample| {
                    assert_eq!(
                        sample[4..8],
                        cpu.to_ne_bytes(),
                        "sample on its CPU's buffer"
                    );
                    seen.push(cpu);
                },
                |cpu, lost| panic!("cpu {cpu} lost {lost}"),
            )
            .unwrap();
        assert!(handled > 0, "poll timed out with {seen:?} of {cpus:?}");
    }
    seen.sort();
    assert_eq!(seen, cpus);
}

#[test]
fn ring_buffer_wait_returns_when_a_record_arrives() {
    use std::time::Duration;

    let mut obj = map_support::load("map_programs.bpf.o", |_| {});
    let mut rb = RingBuf::try_from(obj.take_map("records")).unwrap();
    assert!(!rb.wait(Some(Duration::from_millis(10))).unwrap(), "empty");
    obj.run_on_cpu("fill", 0);
    assert!(rb.wait(Some(Duration::from_secs(5))).unwrap());
    assert!(rb.next().is_some());
}
