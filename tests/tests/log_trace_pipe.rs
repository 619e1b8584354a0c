//! The trace pipe reader for `bpf_printk` users: a private tracefs instance per reader, lines
//! parsed, and filtered by the program whose formats printed them.

use bpf_programs::programs::TestRunOptions;
use std::time::Duration;

use bpf_programs::BpfLoader;
use bpf_programs::programs::Xdp;
use bpf_programs::trace_pipe::{TracePipe, TracePipeError, printk_formats};
use integration_tests::skip;

const OBJECT: &[u8] = include_bytes!("../bpf/obj/log_programs.bpf.o");

fn tracefs_mounted() -> bool {
    std::fs::read_to_string("/proc/mounts")
        .is_ok_and(|m| m.lines().any(|l| l.contains(" tracefs ")))
}

#[test]
fn log_trace_pipe_reads_and_filters_printk_lines_by_program() {
    const TEST: &str = "log_trace_pipe::log_trace_pipe_reads_and_filters_printk_lines_by_program";
    if !tracefs_mounted() {
        skip(TEST, "tracefs is not mounted");
        return;
    }
    let mut bpf = BpfLoader::new().load(OBJECT).unwrap();
    let printk: &mut Xdp = bpf.program_mut("printk_bench").unwrap().try_into().unwrap();
    printk.load().unwrap();
    let printk_id = printk.info().unwrap().id();
    let other: &mut Xdp = bpf.program_mut("raw_bench").unwrap().try_into().unwrap();
    other.load().unwrap();
    let other_id = other.info().unwrap().id();

    assert_eq!(
        printk_formats(printk_id).unwrap(),
        ["packet %u of %d bytes"]
    );
    assert!(printk_formats(other_id).unwrap().is_empty() || other_id != printk_id);

    let mut mine = TracePipe::open().unwrap().only_program(printk_id).unwrap();
    let mut not_mine = TracePipe::open()
        .unwrap()
        .only_formats(&["no such format %d"]);
    let mut everything = TracePipe::open().unwrap();
    let printk: &mut Xdp = bpf.program_mut("printk_bench").unwrap().try_into().unwrap();
    printk
        .test_run(TestRunOptions::new().data(&[0u8; 64]).repeat(3))
        .unwrap();
    // Other tests print too: collect until our three lines are in (they come in order).
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let line = mine
            .next_line(Some(Duration::from_secs(10)))
            .unwrap()
            .expect("our program's lines arrive");
        seen.push(line.message);
    }
    // The counter is global; other programs of this object are not run here, so it starts at 0.
    assert_eq!(
        seen,
        [
            "packet 0 of 64 bytes",
            "packet 1 of 64 bytes",
            "packet 2 of 64 bytes"
        ]
    );
    let line = everything
        .next_line(Some(Duration::from_secs(10)))
        .unwrap()
        .expect("the unfiltered reader sees lines too");
    assert!(line.pid > 0 || line.task == "<idle>", "{line:?}");
    assert!(line.timestamp > 0.0, "{line:?}");
    assert_eq!(
        not_mine
            .next_line(Some(Duration::from_millis(200)))
            .unwrap(),
        None
    );
}

#[test]
fn log_trace_pipe_names_the_program_it_cannot_read() {
    let err = printk_formats(u32::MAX).unwrap_err();
    assert!(
        matches!(err, TracePipeError::Program { id: u32::MAX, .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("program 4294967295"), "{err}");
}
