//! perf_event programs: CPU-clock samples of the test thread.

use std::time::{Duration, Instant};

use bpf_programs::programs::{PerfEvent, PerfEventScope, PerfTypeId, SamplePolicy};
use integration_tests::{counter, open_for_this_thread};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_perf_event.bpf.o");
const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;

fn spin(duration: Duration) {
    let end = Instant::now() + duration;
    let mut x = 0u64;
    while Instant::now() < end {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

#[test]
fn perf_event_samples_fire_and_stop_after_detach() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut PerfEvent = bpf
        .program_mut("count_samples")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let link = program
        .attach(
            PerfTypeId::Software,
            PERF_COUNT_SW_CPU_CLOCK,
            PerfEventScope::CallingProcessAnyCpu,
            SamplePolicy::Frequency(1000),
            false,
        )
        .unwrap();
    spin(Duration::from_millis(300));
    let samples = counter(&bpf, "hits");
    assert!(samples >= 10, "only {samples} samples in 300 ms at 1000 Hz");

    let program: &mut PerfEvent = bpf
        .program_mut("count_samples")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(link).unwrap();
    let before = counter(&bpf, "hits");
    spin(Duration::from_millis(100));
    assert_eq!(counter(&bpf, "hits"), before, "sampled after detach");
}

#[test]
fn perf_event_period_on_every_cpu() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut PerfEvent = bpf
        .program_mut("count_samples")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let cpus = bpf_sys::util::possible_cpu_count().unwrap();
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let online = bpf_sys::util::parse_cpu_list(online.trim()).unwrap();
    assert!(cpus >= online.len());
    let links = program
        .attach_on_every_cpu(
            PerfTypeId::Software,
            PERF_COUNT_SW_CPU_CLOCK,
            SamplePolicy::Period(1_000_000),
        )
        .unwrap();
    assert_eq!(links.len(), online.len(), "one event per online cpu");
    spin(Duration::from_millis(300));
    assert!(
        counter(&bpf, "hits") >= 10,
        "per-CPU events did not sample this thread"
    );
}
