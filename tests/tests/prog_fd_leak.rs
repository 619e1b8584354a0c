//! Every fd the library opens is closed when its owner is dropped (own binary: counts the
//! process's fds, which parallel tests would disturb).

use bpf_programs::BpfLoader;
use bpf_programs::programs::{RawTracePoint, TracePoint};
use integration_tests::{getpid_n, gettid, open_fd_count};

const RAW_TP: &[u8] = include_bytes!("../bpf/obj/prog_raw_tracepoint.bpf.o");
const TP: &[u8] = include_bytes!("../bpf/obj/prog_tracepoint.bpf.o");

fn exercise() {
    let mut raw = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(RAW_TP)
        .unwrap();
    let program: &mut RawTracePoint = raw
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let id = program.attach("sys_enter").unwrap();
    let taken = program.take_link(id).unwrap();
    // Linux 6.1 refuses a second attachment of one program to the same raw tracepoint.
    program.attach("sys_exit").unwrap();
    let _ = raw.program_mut("unchecked_lookup").unwrap().load();
    let _ = raw.program_mut("mystery").unwrap().load();
    let map = raw.take_map("hits");

    let mut tp = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(TP)
        .unwrap();
    let program: &mut TracePoint = tp.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach_default().unwrap();
    getpid_n(5);
    drop(tp);
    drop(raw);
    drop(taken);
    drop(map);
}

#[test]
fn dropping_everything_closes_every_fd() {
    // The first run fills process-wide caches (feature probes, kernel BTF), which hold no fds.
    exercise();
    let before = open_fd_count();
    exercise();
    exercise();
    assert_eq!(open_fd_count(), before, "fds leaked");
}
