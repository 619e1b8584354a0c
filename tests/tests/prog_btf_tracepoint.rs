//! BTF tracepoints: tp_btf/sys_enter with typed arguments.

use bpf_programs::programs::{BtfTracePoint, BtfTracePointError, ProgramError};
use integration_tests::{counter, getpid_n, open_for_this_thread, value_at};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_btf_tracepoint.bpf.o");

#[test]
fn btf_tracepoint_sees_syscall_number_and_stops_after_detach() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut BtfTracePoint = bpf.program_mut("on_sys_enter").unwrap().try_into().unwrap();
    program.load().unwrap();
    let link = program.attach().unwrap();
    getpid_n(20);
    assert!(counter(&bpf, "hits") >= 20);
    assert_eq!(
        value_at(&bpf, "hits", 1),
        20,
        "getpid seen by syscall number"
    );

    let program: &mut BtfTracePoint = bpf.program_mut("on_sys_enter").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    let before = counter(&bpf, "hits");
    getpid_n(20);
    assert_eq!(counter(&bpf, "hits"), before, "fired after detach");
}

#[test]
fn btf_tracepoint_unknown_name_is_typed_error() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut BtfTracePoint = bpf.program_mut("on_nothing").unwrap().try_into().unwrap();
    let err = program.load().unwrap_err();
    assert!(
        matches!(&err, ProgramError::BtfTracePoint(BtfTracePointError::NotFound { name, .. }) if name == "no_such_tracepoint_xyz"),
        "{err:?}"
    );
}
