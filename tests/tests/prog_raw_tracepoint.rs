//! Raw tracepoints: load, attach, fire, detach; verifier rejections and unknown targets.

use bpf_programs::programs::{ProgramError, RawTracePoint, RawTracePointError};
use bpf_programs::{Bpf, BpfLoader};
use integration_tests::{counter, error_chain, getpid_n, gettid};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_raw_tracepoint.bpf.o");

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(OBJECT)
        .expect("object opens although one program is invalid and one section unknown")
}

#[test]
fn raw_tracepoint_fires_and_stops_after_detach() {
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let link = program.attach("sys_enter").unwrap();
    getpid_n(50);
    let fired = counter(&bpf, "hits");
    assert!(
        fired >= 50,
        "counted {fired} syscalls, expected at least 50"
    );

    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(link).unwrap();
    let before = counter(&bpf, "hits");
    getpid_n(50);
    assert_eq!(counter(&bpf, "hits"), before, "fired after detach");
}

#[test]
fn raw_tracepoint_link_taken_outlives_program() {
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let id = program.attach_default().unwrap();
    let link = program.take_link(id).unwrap();
    drop(bpf.take_program("count_sys_enter"));
    getpid_n(20);
    assert!(counter(&bpf, "hits") >= 20, "taken link no longer fires");
    drop(link);
    let before = counter(&bpf, "hits");
    getpid_n(20);
    assert_eq!(
        counter(&bpf, "hits"),
        before,
        "fired after the link was dropped"
    );
}

#[test]
fn raw_tracepoint_dropping_program_detaches() {
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    program.attach("sys_enter").unwrap();
    getpid_n(10);
    assert!(counter(&bpf, "hits") >= 10);
    drop(bpf.take_program("count_sys_enter"));
    let before = counter(&bpf, "hits");
    getpid_n(20);
    assert_eq!(counter(&bpf, "hits"), before);
}

#[test]
fn raw_tracepoint_verifier_rejection_carries_log() {
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("unchecked_lookup")
        .unwrap()
        .try_into()
        .unwrap();
    let err = program.load().unwrap_err();
    let log = err
        .verifier_log()
        .expect("a load error with a verifier log");
    assert!(!log.is_empty(), "empty verifier log: {err}");
    assert!(err.to_string().contains("unchecked_lookup"), "{err}");
    // The verifier's words for it: `invalid mem access`, and since 7.x's explained logs also
    // `invalid dereference`.
    let chain = error_chain(&err);
    assert!(
        chain.contains("invalid mem access") || chain.contains("invalid dereference"),
        "{err}"
    );
    // The other program of the object still loads.
    let good: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    good.load().unwrap();
}

#[test]
fn raw_tracepoint_unknown_name_is_typed_error() {
    let mut bpf = open();
    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let err = program.attach("no_such_tracepoint_xyz").unwrap_err();
    match &err {
        ProgramError::RawTracePoint(RawTracePointError::NotFound { program, name }) => {
            assert_eq!(name, "no_such_tracepoint_xyz");
            assert_eq!(program, "count_sys_enter", "the error names the program");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("no_such_tracepoint_xyz"));
}

#[test]
fn raw_tracepoint_unknown_section_and_wrong_type() {
    let mut bpf = open();
    let mystery = bpf.program_mut("mystery").unwrap();
    assert_eq!(mystery.type_name(), "unknown");
    let err = mystery.load().unwrap_err();
    assert!(
        matches!(&err, ProgramError::UnknownSection { program, section }
            if program == "mystery" && section == "this_is_not_a_section/at_all"),
        "{err:?}"
    );
    let wrong: Result<&mut bpf_programs::programs::TracePoint, _> =
        bpf.program_mut("count_sys_enter").unwrap().try_into();
    let err = wrong.unwrap_err();
    assert!(
        matches!(
            &err,
            ProgramError::UnexpectedProgramType {
                expected: "tracepoint",
                actual: "raw_tracepoint",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn raw_tracepoint_info_and_pin() {
    let mut bpf = open();
    let mut program: RawTracePoint = bpf
        .take_program("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let info = program.info().unwrap();
    assert_eq!(info.name(), "count_sys_enter");
    assert_eq!(
        info.program_type(),
        bpf_sys::generated::bpf_prog_type::BPF_PROG_TYPE_RAW_TRACEPOINT
    );
    assert_eq!(info.map_ids().len(), 2, "hits and .rodata");
    assert!(info.load_time().is_some());
    assert!(info.btf_id().is_some(), "loaded with the object's BTF");
    let id = info.id();
    assert!(
        bpf_programs::programs::loaded_programs().any(|p| p.map(|p| p.id() == id).unwrap_or(false)),
        "our program is listed among loaded programs"
    );

    let path = format!("/sys/fs/bpf/loader_test_rawtp_{}", std::process::id());
    program.pin(&path).unwrap();
    let mut reopened = RawTracePoint::from_pin(&path).unwrap();
    assert_eq!(reopened.info().unwrap().id(), id);
    let link = reopened.attach("sys_enter").unwrap();
    let before = counter(&bpf, "hits");
    getpid_n(10);
    assert!(
        counter(&bpf, "hits") >= before + 10,
        "pinned program did not fire"
    );
    let link = reopened.take_link(link).unwrap();
    let fd_link: bpf_programs::programs::FdLink = link.into();
    let link_info = fd_link.info().unwrap();
    assert_eq!(link_info.program_id(), id);
    assert!(
        matches!(
            link_info.details(),
            bpf_sys::info::LinkDetails::RawTracepoint
        ),
        "{:?}",
        link_info.details()
    );
    assert!(
        bpf_programs::programs::loaded_links()
            .any(|l| l.map(|l| l.id() == link_info.id()).unwrap_or(false))
    );
    program.unpin().unwrap();
    assert!(!std::path::Path::new(&path).exists());

    // A pinned link keeps the program attached after its owner is gone, until unpinned.
    let link_path = format!("/sys/fs/bpf/loader_test_rawtp_link_{}", std::process::id());
    let pinned = fd_link.pin(&link_path).unwrap();
    drop(pinned);
    drop(reopened);
    drop(program);
    let before = counter(&bpf, "hits");
    getpid_n(10);
    assert!(
        counter(&bpf, "hits") >= before + 10,
        "pinned link stopped firing"
    );
    let pinned = bpf_programs::programs::PinnedLink::from_pin(&link_path).unwrap();
    assert_eq!(pinned.link().info().unwrap().id(), link_info.id());
    let link = pinned.unpin().unwrap();
    assert!(!std::path::Path::new(&link_path).exists());
    drop(link);
    // The pin's reference goes with the bpffs inode, which older kernels (5.10) free an RCU
    // grace period after the unlink: allow the detach a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let still_firing = || {
        let before = counter(&bpf, "hits");
        getpid_n(10);
        counter(&bpf, "hits") != before
    };
    while still_firing() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !still_firing(),
        "fired after the last link reference closed"
    );
}
