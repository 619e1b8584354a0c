//! Tracepoints: attach by category/name, fire on getpid(), detach; unknown names.

use bpf_programs::BpfLoader;
use bpf_programs::programs::{ProgramError, TracePoint, TracePointError};
use integration_tests::{counter, getpid_n, gettid};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");

#[test]
fn tracepoint_fires_and_stops_after_detach() {
    let mut bpf = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(OBJECT)
        .unwrap();
    let program: &mut TracePoint = bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.load().unwrap();
    let link = program.attach_default().unwrap();
    getpid_n(30);
    let fired = counter(&bpf, "hits");
    assert!(fired >= 30, "counted {fired}, expected at least 30");

    let program: &mut TracePoint = bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    getpid_n(30);
    assert_eq!(counter(&bpf, "hits"), fired, "fired after detach");
}

#[test]
fn tracepoint_unknown_name_is_typed_error() {
    let mut bpf = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(OBJECT)
        .unwrap();
    let program: &mut TracePoint = bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.load().unwrap();
    let err = program
        .attach("syscalls", "sys_enter_nonexistent")
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::TracePoint(e) if matches!(&**e,
            TracePointError::NotFound { program, category, name, .. }
            if program == "count_getpid" && category == "syscalls" && name == "sys_enter_nonexistent")),
        "{err:?}"
    );
    assert!(err.to_string().contains("syscalls/sys_enter_nonexistent"));
}
