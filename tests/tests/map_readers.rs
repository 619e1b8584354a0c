//! Ring buffer, perf buffer and user ring buffer readers against a program that emits
//! sequence-numbered records of several sizes (header only, unaligned, larger than a page)
//! from every online CPU, with discarded records in between (map_readers.bpf.c). Each reader
//! (one at a time, callback, batch, async; per CPU or together) must see every record once,
//! in each producer's order, with its payload intact; an overflowing buffer must report loss,
//! never corrupt data.

mod map_support;

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bpf_programs::maps::{
    AsyncPerfBuffer, AsyncRingBuf, GlobalData, MapData, MapError, PerfBuffer, PerfEventArray,
    RingBuf, RingBufSet, UserRingBuf,
};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};
use map_support::Loaded;

const OBJECT: &str = "map_readers.bpf.o";
/// `struct record`: producer, seq, len, pad, pos.
const HEADER: usize = 24;
const TO_RING: u64 = 0;
const TO_PERF: u64 = 1;
const TO_RING_B: u64 = 2;
/// The lengths the program cycles through (map_readers.bpf.c `sizes`).
const SIZES: [usize; 8] = [24, 29, 64, 100, 1024, 4093, 5000, 7000];
const PAGE: usize = 4096;

fn online_cpus() -> Vec<u32> {
    let mut cpus = bpf_sys::util::online_cpus().expect("online CPUs");
    cpus.retain(|&c| c < 16);
    cpus
}

/// Each CPU's records to each target get their own producer id, hence their own sequence.
fn producer(cpu: u32, target: u64) -> u32 {
    cpu + 16 * target as u32
}

/// Runs `emit` on `cpu`: `count` records to `target` (`size` 0: the cycle of sizes), a
/// discarded record before every `discard_every`-th. Returns how many the buffer took.
fn emit(
    program: BorrowedFd<'_>,
    cpu: u32,
    count: u32,
    target: u64,
    size: u32,
    discard_every: u32,
) -> u32 {
    let args = [
        u64::from(producer(cpu, target)),
        u64::from(count),
        target,
        u64::from(size),
        u64::from(discard_every),
        1,
    ];
    let ctx: Vec<u8> = args.iter().flat_map(|a| a.to_ne_bytes()).collect();
    prog_test_run(
        program,
        TestRunAttr {
            ctx_in: &ctx,
            flags: bpf_sys::generated::BPF_F_TEST_RUN_ON_CPU,
            cpu,
            ..TestRunAttr::default()
        },
    )
    .unwrap_or_else(|e| panic!("test run of emit on CPU {cpu}: {e}"))
    .retval
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The bytes the program writes for `seq` of `producer` with length `len`.
fn expected_record(producer: u32, seq: u32, len: usize, pos: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    for v in [producer, seq, len as u32, 0] {
        out.extend_from_slice(&v.to_ne_bytes());
    }
    out.extend_from_slice(&pos.to_ne_bytes());
    let mut word = HEADER / 8;
    while out.len() < len {
        let value = u64::from(producer) << 48 | u64::from(seq) << 16 | word as u64;
        out.extend_from_slice(&value.to_ne_bytes());
        word += 1;
    }
    out.truncate(len);
    out
}

/// Checks header and payload of one record (perf samples may be followed by the kernel's
/// padding); returns (producer, seq, len, pos).
fn check_record(bytes: &[u8]) -> (u32, u32, usize, u64) {
    assert!(bytes.len() >= HEADER, "a {}-byte record", bytes.len());
    let (producer, seq, len) = (
        u32_at(bytes, 0),
        u32_at(bytes, 4),
        u32_at(bytes, 8) as usize,
    );
    let pos = u64::from_ne_bytes(bytes[16..24].try_into().unwrap());
    assert!(
        len <= bytes.len(),
        "record {producer}/{seq}: header says {len} bytes, got {}",
        bytes.len()
    );
    assert!(
        bytes[..len] == expected_record(producer, seq, len, pos)[..],
        "record {producer}/{seq} ({len} bytes): payload differs"
    );
    assert!(
        bytes.len() - len < 8,
        "record {producer}/{seq}: {} bytes after its length (the kernel pads perf samples by 0 to 7)",
        bytes.len() - len
    );
    (producer, seq, len, pos)
}

/// What a reader saw, checked record by record.
#[derive(Debug, Default)]
struct Seen {
    next: HashMap<u32, u32>,
    records: u64,
    largest: usize,
    /// Ring buffer records whose data wraps the ring's end.
    wrapped: u64,
    /// With loss allowed, a producer's sequence numbers only have to increase.
    lossy: bool,
}

impl Seen {
    fn lossy() -> Self {
        Seen {
            lossy: true,
            ..Seen::default()
        }
    }

    /// One record; `ring_size` for ring buffer records (their header holds their position).
    /// Returns the CPU that produced it.
    fn record(&mut self, bytes: &[u8], ring_size: Option<u64>) -> u32 {
        let (producer, seq, len, pos) = check_record(bytes);
        let next = self.next.entry(producer).or_insert(0);
        if self.lossy {
            assert!(
                seq >= *next,
                "producer {producer}: seq {seq} after {}",
                *next
            );
        } else {
            assert_eq!(
                seq, *next,
                "producer {producer}: records out of order or lost"
            );
        }
        *next = seq + 1;
        self.records += 1;
        self.largest = self.largest.max(len);
        if let Some(size) = ring_size
            && (pos % size) + 8 + len as u64 > size
        {
            self.wrapped += 1;
        }
        producer % 16
    }
}

/// True (after printing the SKIPPED line) where the kernel lacks what the producers of
/// map_readers.bpf.o use: `bpf_loop` (Linux 5.17) and user ring buffers (6.1).
fn skipped(test: &str) -> bool {
    let missing = [
        ("bpf_func_id", "BPF_FUNC_loop"),
        ("bpf_map_type", "BPF_MAP_TYPE_USER_RINGBUF"),
    ]
    .into_iter()
    .find(|(enum_name, name)| !integration_tests::kernel_enum_has(enum_name, name));
    if let Some((enum_name, name)) = missing {
        integration_tests::skip(
            &format!("map_readers::{test}"),
            format!("the kernel's enum {enum_name} has no {name}, which map_readers.bpf.o uses"),
        );
    }
    missing.is_some()
}

fn load(ring_size: u32, configure: impl FnOnce(&mut bpf_programs::BpfLoader)) -> Loaded {
    map_support::load(OBJECT, |loader| {
        loader.set_max_entries("ring", ring_size);
        loader.set_max_entries("ring_b", 64 * 1024);
        configure(loader);
    })
}

fn emit_program(obj: &Loaded) -> OwnedFd {
    obj.program("emit").try_clone_to_owned().unwrap()
}

/// The program's count of records each producer's buffer refused.
fn dropped(obj: &Loaded) -> [u64; 64] {
    GlobalData::try_from(obj.map(".bss"))
        .unwrap()
        .get::<[u64; 64]>("dropped")
        .unwrap()
}

/// Records refused to `cpu`'s producer of `target`.
fn dropped_of(obj: &Loaded, cpu: u32, target: u64) -> u64 {
    dropped(obj)[producer(cpu, target) as usize]
}

/// The four ways to read a ring buffer, each draining what is ready into `f`.
#[derive(Debug, Clone, Copy)]
enum RingRead {
    Next,
    Drain,
    Records,
    Poll,
}

fn read_ring(ring: &mut RingBuf<MapData>, how: RingRead, f: &mut dyn FnMut(&[u8])) -> usize {
    match how {
        RingRead::Next => {
            let mut n = 0;
            while let Some(record) = ring.try_next().unwrap() {
                f(&record);
                n += 1;
            }
            n
        }
        RingRead::Drain => ring.drain(|record| f(&record)).unwrap(),
        RingRead::Records => {
            let batch = ring.records();
            let kept: Vec<_> = batch.iter().collect();
            // Every record of the batch is still valid while the batch lives.
            kept.iter().for_each(|record| f(record));
            kept.len()
        }
        RingRead::Poll => ring
            .poll(Some(Duration::from_millis(1)), |record| f(&record))
            .unwrap(),
    }
}

/// One producer at a time, CPU after CPU: `runs` runs of the eight sizes into a 32 KiB ring
/// (so records wrap its end), each run read at once by `how`.
fn ring_sequential(how: RingRead) {
    const RING: u32 = 32 * 1024;
    let mut obj = load(RING, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    assert!(ring.try_next().unwrap().is_none());
    let cpus = online_cpus();
    let runs = 40;
    let mut seen = Seen::default();
    for run in 0..runs {
        let cpu = cpus[run % cpus.len()];
        assert_eq!(emit(program.as_fd(), cpu, 8, TO_RING, 0, 3), 8, "run {run}");
        let read = read_ring(&mut ring, how, &mut |bytes| {
            seen.record(bytes, Some(u64::from(RING)));
        });
        assert_eq!(read, 8, "run {run} with {how:?}");
    }
    assert_eq!(seen.records, runs as u64 * 8);
    assert_eq!(seen.next.len(), cpus.len(), "a producer per CPU");
    assert!(seen.largest > PAGE, "records larger than a page");
    assert!(seen.wrapped > 0, "no record wrapped the ring's end");
    assert!(dropped(&obj).iter().all(|&d| d == 0));
}

#[test]
fn ring_buffer_next_reads_every_record_in_order() {
    if skipped("ring_buffer_next_reads_every_record_in_order") {
        return;
    }
    ring_sequential(RingRead::Next);
}

#[test]
fn ring_buffer_drain_reads_every_record_in_order() {
    if skipped("ring_buffer_drain_reads_every_record_in_order") {
        return;
    }
    ring_sequential(RingRead::Drain);
}

#[test]
fn ring_buffer_records_batch_reads_every_record_in_order() {
    if skipped("ring_buffer_records_batch_reads_every_record_in_order") {
        return;
    }
    ring_sequential(RingRead::Records);
}

#[test]
fn ring_buffer_poll_reads_every_record_in_order() {
    if skipped("ring_buffer_poll_reads_every_record_in_order") {
        return;
    }
    ring_sequential(RingRead::Poll);
}

/// Records of one size (the reader's predicted case: each header equals the one before),
/// with a discarded record before every third, into a 32 KiB ring that they wrap many times;
/// read by `how` after each run of 50.
fn ring_fixed_size(how: RingRead) {
    const RING: u32 = 32 * 1024;
    let mut obj = load(RING, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    let cpus = online_cpus();
    let mut seen = Seen::default();
    // 100 bytes: padded to 104, so the span (112) is not the length plus the header.
    for (run, size) in [100u32, 64, 100].into_iter().cycle().take(60).enumerate() {
        let cpu = cpus[run % cpus.len()];
        assert_eq!(emit(program.as_fd(), cpu, 50, TO_RING, size, 3), 50);
        let read = read_ring(&mut ring, how, &mut |bytes| {
            assert_eq!(bytes.len(), size as usize, "run {run}");
            seen.record(bytes, Some(u64::from(RING)));
        });
        assert_eq!(read, 50, "run {run} with {how:?}");
    }
    assert_eq!(seen.records, 60 * 50);
    assert!(seen.wrapped > 0, "no record wrapped the ring's end");
    assert!(dropped(&obj).iter().all(|&d| d == 0));
}

#[test]
fn ring_buffer_fixed_size_records_next() {
    if skipped("ring_buffer_fixed_size_records_next") {
        return;
    }
    ring_fixed_size(RingRead::Next);
}

#[test]
fn ring_buffer_fixed_size_records_drain() {
    if skipped("ring_buffer_fixed_size_records_drain") {
        return;
    }
    ring_fixed_size(RingRead::Drain);
}

#[test]
fn ring_buffer_fixed_size_records_batch() {
    if skipped("ring_buffer_fixed_size_records_batch") {
        return;
    }
    ring_fixed_size(RingRead::Records);
}

#[test]
fn ring_buffer_fixed_size_records_poll() {
    if skipped("ring_buffer_fixed_size_records_poll") {
        return;
    }
    ring_fixed_size(RingRead::Poll);
}

/// Producers on every CPU at once, each allowed one unread run, while `consume` reads on this
/// thread; records of `size` bytes (0: the cycle of sizes). Returns what it saw.
fn concurrent(
    program: &OwnedFd,
    target: u64,
    size: u32,
    runs: u32,
    mut consume: impl FnMut(&mut dyn FnMut(&[u8]) -> u32),
) -> Seen {
    let cpus = online_cpus();
    let consumed: Vec<AtomicU64> = cpus.iter().map(|_| AtomicU64::new(0)).collect();
    let per_run = 8u32;
    let total = u64::from(runs * per_run) * cpus.len() as u64;
    let ring_size = if target == TO_PERF { None } else { Some(0) };
    let mut seen = Seen::default();
    std::thread::scope(|scope| {
        for (index, &cpu) in cpus.iter().enumerate() {
            let consumed = &consumed;
            scope.spawn(move || {
                let mut emitted = 0u64;
                for run in 0..runs {
                    // Back-pressure: at most one unread run per producer.
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while consumed[index].load(Ordering::Acquire) + u64::from(per_run) < emitted {
                        assert!(Instant::now() < deadline, "consumer stalled");
                        std::thread::yield_now();
                    }
                    let took = emit(program.as_fd(), cpu, per_run, target, size, 3);
                    assert_eq!(
                        took, per_run,
                        "CPU {cpu} run {run}: the buffer refused records"
                    );
                    emitted += u64::from(took);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while seen.records < total {
            assert!(
                Instant::now() < deadline,
                "read {} of {total} records",
                seen.records
            );
            // Counted as consumed once the read returns: readers free the space of a batch
            // at its end, so a producer told earlier could find the buffer still full.
            let mut batch = vec![0u64; cpus.len()];
            consume(&mut |bytes| {
                let producer = seen.record(bytes, ring_size.filter(|&s| s > 0));
                batch[cpus.iter().position(|&c| c == producer).unwrap()] += 1;
                producer
            });
            for (counter, read) in consumed.iter().zip(batch) {
                counter.fetch_add(read, Ordering::Release);
            }
        }
    });
    seen
}

#[test]
fn ring_buffer_concurrent_producers_poll() {
    if skipped("ring_buffer_concurrent_producers_poll") {
        return;
    }
    let mut obj = load(128 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    let seen = concurrent(&program, TO_RING, 0, 60, |f| {
        ring.poll(Some(Duration::from_millis(100)), |record| {
            f(&record);
        })
        .unwrap();
    });
    assert!(seen.largest > PAGE);
    assert!(dropped(&obj).iter().all(|&d| d == 0));
}

#[test]
fn ring_buffer_concurrent_producers_of_one_size_drain() {
    if skipped("ring_buffer_concurrent_producers_of_one_size_drain") {
        return;
    }
    let mut obj = load(128 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    let seen = concurrent(&program, TO_RING, 100, 200, |f| {
        let read = ring
            .drain(|record| {
                assert_eq!(record.len(), 100);
                f(&record);
            })
            .unwrap();
        if read == 0 {
            ring.wait(Some(Duration::from_millis(100))).unwrap();
        }
    });
    assert_eq!(seen.largest, 100);
    assert!(dropped(&obj).iter().all(|&d| d == 0));
}

#[test]
fn ring_buffer_concurrent_producers_next_and_wait() {
    if skipped("ring_buffer_concurrent_producers_next_and_wait") {
        return;
    }
    let mut obj = load(128 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    concurrent(&program, TO_RING, 0, 60, |f| {
        if let Some(record) = ring.try_next().unwrap() {
            f(&record);
        } else {
            ring.wait(Some(Duration::from_millis(100))).unwrap();
        }
    });
    assert!(dropped(&obj).iter().all(|&d| d == 0));
}

#[test]
fn ring_buffer_overflow_reports_drops_never_corrupt_data() {
    if skipped("ring_buffer_overflow_reports_drops_never_corrupt_data") {
        return;
    }
    let mut obj = load(4 * PAGE as u32, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    let cpu = online_cpus()[0];
    let emitted = 100;
    let took = emit(program.as_fd(), cpu, emitted, TO_RING, 0, 3);
    let refused = dropped_of(&obj, cpu, TO_RING);
    assert!(
        refused > 0,
        "a 16 KiB ring took {took} of {emitted} records"
    );
    assert_eq!(u64::from(took) + refused, u64::from(emitted));
    let mut seen = Seen::lossy();
    ring.drain(|record| {
        seen.record(&record, Some(4 * PAGE as u64));
    })
    .unwrap();
    assert_eq!(seen.records, u64::from(took));
    // The ring works on after the overflow.
    assert_eq!(emit(program.as_fd(), cpu, 2, TO_RING, 64, 0), 2);
    assert_eq!(
        ring.drain(|record| assert_eq!(record.len(), 64)).unwrap(),
        2
    );
}

#[test]
fn ring_buf_set_reads_several_rings() {
    if skipped("ring_buf_set_reads_several_rings") {
        return;
    }
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut set = RingBufSet::new().unwrap();
    let a = set
        .add(RingBuf::try_from(obj.take_map("ring")).unwrap())
        .unwrap();
    let b = set
        .add(RingBuf::try_from(obj.take_map("ring_b")).unwrap())
        .unwrap();
    assert_eq!(
        set.poll(Some(Duration::from_millis(10)), |_, _| {})
            .unwrap(),
        0
    );
    let cpu = online_cpus()[0];
    let mut seen = [Seen::default(), Seen::default()];
    for run in 0..20 {
        let target = if run % 2 == 0 { TO_RING } else { TO_RING_B };
        assert_eq!(emit(program.as_fd(), cpu, 4, target, 0, 0), 4);
        let n = set
            .poll(Some(Duration::from_secs(5)), |index, record| {
                seen[index].record(&record, None);
            })
            .unwrap();
        assert_eq!(n, 4, "run {run}");
    }
    // One sequence per producer, split between the rings as they were emitted.
    assert_eq!((seen[a].records, seen[b].records), (40, 40));
}

#[test]
fn ring_buffer_typed_reads_check_the_exact_size() {
    if skipped("ring_buffer_typed_reads_check_the_exact_size") {
        return;
    }
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    assert_eq!(
        emit(program.as_fd(), online_cpus()[0], 1, TO_RING, 24, 0),
        1
    );
    let record = ring.next().expect("a record");
    assert_eq!(record.len(), 24);
    let whole: [u32; 6] = record.read().unwrap();
    assert_eq!(whole[2], 24, "len field");
    let err = record.read::<u64>().unwrap_err();
    assert_eq!((err.expected, err.actual), (8, 24));
    assert!(record.read::<[u8; 32]>().is_err(), "longer than the record");
    assert_eq!(record.read_prefix::<[u32; 2]>().unwrap()[1], 0, "seq 0");
    assert_eq!(record.read_slice::<u64>().unwrap().len(), 3);
    assert!(record.read_slice::<[u8; 16]>().is_err());
}

/// A perf buffer's samples of one CPU run after run, 8 pages per CPU: `per_run` samples a
/// run, of the sizes `sizes` gives run by run (0: the cycle of sizes). Returns what it saw.
fn perf_sequential(runs: usize, per_run: u32, sizes: impl Fn(usize) -> u32) -> Seen {
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut array = PerfEventArray::try_from(obj.take_map("perf")).unwrap();
    let pages = 8;
    let mut perf = PerfBuffer::new(&mut array, pages).unwrap();
    let cpus: Vec<u32> = perf.cpus().collect();
    let data_size = (pages * PAGE) as u64;
    let mut seen = Seen::default();
    // Where each CPU's ring is, to tell samples that wrap its end.
    let mut positions: HashMap<u32, u64> = HashMap::new();
    let mut wrapped = 0;
    for run in 0..runs {
        let cpu = cpus[run % cpus.len()];
        let size = sizes(run);
        assert_eq!(
            emit(program.as_fd(), cpu, per_run, TO_PERF, size, 0),
            per_run
        );
        let n = perf
            .poll(
                Some(Duration::from_secs(5)),
                |sample_cpu, sample| {
                    let producer = seen.record(&sample, None);
                    assert_eq!(producer, sample_cpu, "sample on its CPU's buffer");
                    if size > 0 {
                        // Padded by the kernel to 4 less than a multiple of 8.
                        assert_eq!(sample.len(), (size as usize + 4).next_multiple_of(8) - 4);
                    }
                    // perf_event_header, u32 size, then the padded sample.
                    let size = 8 + 4 + sample.len() as u64;
                    let pos = positions.entry(sample_cpu).or_insert(0);
                    if *pos % data_size + size > data_size {
                        wrapped += 1;
                    }
                    *pos += size;
                },
                |cpu, lost| panic!("CPU {cpu} lost {lost}"),
            )
            .unwrap();
        assert_eq!(n, per_run as usize, "run {run}");
    }
    assert_eq!(seen.records, runs as u64 * u64::from(per_run));
    assert!(wrapped > 0, "no sample wrapped its ring's end");
    assert!(cpus.iter().all(|&c| perf.lost(c) == 0));
    seen
}

#[test]
fn perf_buffer_reads_every_sample_in_order_and_wraps() {
    if skipped("perf_buffer_reads_every_sample_in_order_and_wraps") {
        return;
    }
    let seen = perf_sequential(40, 8, |_| 0);
    assert!(seen.largest > PAGE);
}

/// Samples of one size (the reader's predicted case), a size per run, wrapping the rings.
#[test]
fn perf_buffer_fixed_size_samples() {
    if skipped("perf_buffer_fixed_size_samples") {
        return;
    }
    let seen = perf_sequential(60, 50, |run| [100, 64, 100][run % 3]);
    assert_eq!(seen.largest, 100);
}

#[test]
fn perf_buffer_typed_reads_allow_only_the_kernels_padding() {
    if skipped("perf_buffer_typed_reads_allow_only_the_kernels_padding") {
        return;
    }
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut array = PerfEventArray::try_from(obj.take_map("perf")).unwrap();
    let cpu = online_cpus()[0];
    let mut buffer = array.open(cpu, 1).unwrap();
    assert_eq!(emit(program.as_fd(), cpu, 1, TO_PERF, 24, 0), 1);
    let events = buffer
        .drain(
            |sample| {
                assert_eq!(sample.len(), 28, "24 bytes padded to 4 less than 32");
                let whole: [u32; 6] = sample.read().unwrap();
                assert_eq!(whole[2], 24);
                // 28 bytes pad to 28 too: the two lengths cannot be told apart.
                assert_eq!(sample.read::<[u32; 7]>().unwrap()[2], 24);
                assert!(sample.read::<[u32; 8]>().is_err());
                assert!(sample.read::<u64>().is_err());
                assert_eq!(sample.read_prefix::<u32>().unwrap(), producer(cpu, TO_PERF));
            },
            |_| panic!("lost"),
        )
        .unwrap();
    assert_eq!(events.read, 1);
}

/// Each CPU's buffer read by its own thread while every CPU produces.
#[test]
fn perf_buffer_per_cpu_buffers_read_on_their_own_threads() {
    if skipped("perf_buffer_per_cpu_buffers_read_on_their_own_threads") {
        return;
    }
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut array = PerfEventArray::try_from(obj.take_map("perf")).unwrap();
    let buffers = PerfBuffer::new(&mut array, 16).unwrap().into_buffers();
    let runs = 40u32;
    let per_run = 8u32;
    std::thread::scope(|scope| {
        for mut buffer in buffers {
            let program = &program;
            scope.spawn(move || {
                let cpu = buffer.cpu();
                let mut seen = Seen::default();
                for run in 0..runs {
                    assert_eq!(emit(program.as_fd(), cpu, per_run, TO_PERF, 0, 3), per_run);
                    let target = u64::from((run + 1) * per_run);
                    let deadline = Instant::now() + Duration::from_secs(30);
                    while seen.records < target {
                        assert!(Instant::now() < deadline, "CPU {cpu}: {seen:?}");
                        buffer.wait(Some(Duration::from_millis(100))).unwrap();
                        buffer
                            .drain(
                                |sample| assert_eq!(seen.record(&sample, None), cpu),
                                |lost| panic!("CPU {cpu} lost {lost}"),
                            )
                            .unwrap();
                    }
                }
                assert_eq!(seen.records, u64::from(runs * per_run));
                assert_eq!(buffer.lost(), 0);
            });
        }
    });
}

#[test]
fn perf_buffer_concurrent_producers_poll() {
    if skipped("perf_buffer_concurrent_producers_poll") {
        return;
    }
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut array = PerfEventArray::try_from(obj.take_map("perf")).unwrap();
    let mut perf = PerfBuffer::new(&mut array, 16).unwrap();
    concurrent(&program, TO_PERF, 0, 40, |f| {
        perf.poll(
            Some(Duration::from_millis(100)),
            |cpu, sample| assert_eq!(f(&sample), cpu),
            |cpu, lost| panic!("CPU {cpu} lost {lost}"),
        )
        .unwrap();
    });
}

#[test]
fn perf_buffer_overflow_reports_lost_never_corrupt_data() {
    if skipped("perf_buffer_overflow_reports_lost_never_corrupt_data") {
        return;
    }
    let mut obj = load(64 * 1024, |_| {});
    let program = emit_program(&obj);
    let mut array = PerfEventArray::try_from(obj.take_map("perf")).unwrap();
    let cpu = online_cpus()[0];
    let mut buffer = array.open(cpu, 1).unwrap();
    let emitted = 60;
    let took = emit(program.as_fd(), cpu, emitted, TO_PERF, 0, 0);
    let refused = dropped_of(&obj, cpu, TO_PERF);
    assert!(
        refused > 0,
        "a one-page buffer took {took} of {emitted} samples"
    );
    let mut seen = Seen::lossy();
    let mut lost = 0;
    buffer
        .drain(|s| assert_eq!(seen.record(&s, None), cpu), |n| lost += n)
        .unwrap();
    // The kernel writes the lost count when it next has room: after one more sample.
    assert_eq!(emit(program.as_fd(), cpu, 1, TO_PERF, 24, 0), 1);
    let events = buffer
        .drain(|s| assert_eq!(seen.record(&s, None), cpu), |n| lost += n)
        .unwrap();
    assert_eq!(events.read, 1);
    assert_eq!(
        lost, refused,
        "lost samples reported as the program saw them refused"
    );
    assert_eq!(buffer.lost(), refused);
    assert_eq!(seen.records + lost, u64::from(emitted) + 1);
}

/// User space writes records of every size into the user ring buffer (some discarded), the
/// program drains it and echoes each record into `ring`, where they must come back intact.
#[test]
fn user_ring_buffer_records_reach_the_program() {
    if skipped("user_ring_buffer_records_reach_the_program") {
        return;
    }
    let mut obj = load(256 * 1024, |_| {});
    let echo = obj.program("echo_user").try_clone_to_owned().unwrap();
    let mut user = UserRingBuf::try_from(obj.take_map("user_ring")).unwrap();
    let mut ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    let run_echo = || {
        prog_test_run(echo.as_fd(), TestRunAttr::default())
            .expect("echo_user runs")
            .retval
    };
    let capacity = user.capacity();
    let mut written = 0u32;
    let mut seen = Seen::default();
    for round in 0..20 {
        for (i, &len) in SIZES.iter().enumerate() {
            if i == 3 {
                // Reserved, then dropped unsubmitted: discarded, the program never sees it.
                let mut entry = user.reserve(300).unwrap();
                entry.fill(0xee);
            }
            let record = expected_record(77, written, len, 0);
            if i % 2 == 0 {
                user.write(&record).unwrap();
            } else {
                let mut entry = user.reserve(len).unwrap();
                entry.copy_from_slice(&record);
                entry.submit();
            }
            written += 1;
        }
        assert_eq!(run_echo(), 8, "round {round}: records drained");
        let n = ring
            .drain(|record| {
                seen.record(&record, None);
            })
            .unwrap();
        assert_eq!(n, 8, "round {round}: records echoed");
        assert_eq!(
            user.free_space(),
            capacity,
            "the program drained everything"
        );
    }
    assert_eq!(seen.records, u64::from(written));
    let bss = GlobalData::try_from(obj.map(".bss")).unwrap();
    assert_eq!(bss.get::<u64>("echoed").unwrap(), u64::from(written));
    assert_eq!(bss.get::<u64>("echo_failed").unwrap(), 0);
    // 20 rounds of ~18 KiB through a 64 KiB ring: its end was crossed several times.
    assert!(u64::from(written) * 2000 > 3 * capacity);
}

#[test]
fn user_ring_buffer_full_and_too_large_are_errors() {
    if skipped("user_ring_buffer_full_and_too_large_are_errors") {
        return;
    }
    let mut obj = load(256 * 1024, |_| {});
    let echo = obj.program("echo_user").try_clone_to_owned().unwrap();
    let mut user = UserRingBuf::try_from(obj.take_map("user_ring")).unwrap();
    let capacity = user.capacity() as usize;
    assert!(matches!(
        user.reserve(capacity),
        Err(MapError::RecordTooLarge { len, .. }) if len == capacity
    ));
    let record = expected_record(5, 0, 4000, 0);
    let mut fitted = 0;
    loop {
        match user.write(&record) {
            Ok(()) => fitted += 1,
            Err(MapError::RingBufFull { len: 4000, .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(fitted, capacity / 4008);
    assert!(
        !user
            .wait_for_space(4000, Some(Duration::from_millis(20)))
            .unwrap()
    );
    let drained = prog_test_run(echo.as_fd(), TestRunAttr::default())
        .unwrap()
        .retval;
    assert_eq!(drained as usize, fitted);
    assert!(
        user.wait_for_space(4000, Some(Duration::from_secs(1)))
            .unwrap()
    );
    user.write(&record).unwrap();
}

/// Two ring buffers and a perf buffer awaited in one task with `select!`, while every CPU
/// produces into all three.
#[test]
fn async_ring_and_perf_buffers_awaited_together_in_one_task() {
    if skipped("async_ring_and_perf_buffers_awaited_together_in_one_task") {
        return;
    }
    let mut obj = load(128 * 1024, |_| {});
    let program = emit_program(&obj);
    let ring = RingBuf::try_from(obj.take_map("ring")).unwrap();
    let ring_b = RingBuf::try_from(obj.take_map("ring_b")).unwrap();
    let mut array = PerfEventArray::try_from(obj.take_map("perf")).unwrap();
    let perf = PerfBuffer::new(&mut array, 16).unwrap();
    let cpus = online_cpus();
    let runs = 20u32;
    let per_target = u64::from(runs * 2) * cpus.len() as u64;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Records the reader has taken, so the producer never outruns it (a loaded machine can
    // leave the reader unscheduled for longer than any fixed pause).
    let taken = AtomicU64::new(0);
    let seen = std::thread::scope(|scope| {
        scope.spawn(|| {
            let per_run = 2 * 3 * cpus.len() as u64;
            for run in 0..runs {
                for &cpu in &cpus {
                    for target in [TO_RING, TO_RING_B, TO_PERF] {
                        assert_eq!(emit(program.as_fd(), cpu, 2, target, 0, 0), 2, "run {run}");
                    }
                }
                let emitted = per_run * u64::from(run + 1);
                let waiting_since = Instant::now();
                while taken.load(Ordering::Acquire) < emitted {
                    assert!(
                        waiting_since.elapsed() < Duration::from_secs(60),
                        "reader stalled"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        runtime.block_on(async {
            let mut ring = AsyncRingBuf::new(ring).unwrap();
            let mut ring_b = AsyncRingBuf::new(ring_b).unwrap();
            let mut perf = AsyncPerfBuffer::new(perf).unwrap();
            let mut seen = [Seen::default(), Seen::default(), Seen::default()];
            let deadline = tokio::time::sleep(Duration::from_secs(60));
            tokio::pin!(deadline);
            while seen.iter().any(|s| s.records < per_target) {
                taken.store(seen.iter().map(|s| s.records).sum(), Ordering::Release);
                let [s0, s1, s2] = &mut seen;
                tokio::select! {
                    record = ring.next() => {
                        s0.record(&record.unwrap(), None);
                    }
                    n = ring_b.drain(|record| { s1.record(&record, None); }) => {
                        assert!(n.unwrap() > 0);
                    }
                    n = perf.drain(
                        |cpu, sample| assert_eq!(s2.record(&sample, None), cpu),
                        |cpu, lost| panic!("CPU {cpu} lost {lost}"),
                    ) => {
                        assert!(n.unwrap() > 0);
                    }
                    _ = &mut deadline => panic!("timed out: {s0:?} {s1:?} {s2:?}"),
                }
            }
            taken.store(seen.iter().map(|s| s.records).sum(), Ordering::Release);
            seen
        })
    });
    for (which, seen) in ["ring", "ring_b", "perf"].iter().zip(&seen) {
        assert_eq!(seen.records, per_target, "{which}");
    }
    assert!(dropped(&obj).iter().all(|&d| d == 0));
}
