//! fentry / fexit / fmod_ret (fire on the second kernel; this one refuses trampolines).

use bpf_programs::programs::{FEntry, FEntryError, FExit, FModRet, ProgramError};
use integration_tests::{
    getpid_n, open_for_this_thread, skip, skipped_unsupported, trampoline_refusal, value_at,
};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_fentry.bpf.o");

/// Kernels name the getpid entry differently in BTF (aliases at one address are deduplicated).
const GETPID: &[&str] = &["__x64_sys_getpid", "__arm64_sys_getpid", "__do_sys_getpid"];

/// Loads with the first candidate the kernel's BTF has.
fn load_first(
    mut load: impl FnMut(&str) -> Result<(), ProgramError>,
    candidates: &[&str],
) -> Result<(), ProgramError> {
    let mut last = None;
    for function in candidates {
        match load(function) {
            Err(ProgramError::FEntry(FEntryError::FunctionNotFound { .. })) => {}
            other => return other,
        }
        last = Some(*function);
    }
    load(last.unwrap_or_default())
}

#[test]
fn fentry_fires_and_stops_after_detach() {
    let test = "prog_fentry::fentry_fires_and_stops_after_detach";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut FEntry = bpf
        .program_mut("fentry_getpid")
        .unwrap()
        .try_into()
        .unwrap();
    let loaded = load_first(|f| program.load_target(f), GETPID);
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    let link = program.attach(0).unwrap();
    getpid_n(10);
    assert_eq!(value_at(&bpf, "hits", 0), 10);
    let program: &mut FEntry = bpf
        .program_mut("fentry_getpid")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(link).unwrap();
    getpid_n(10);
    assert_eq!(value_at(&bpf, "hits", 0), 10, "fired after detach");
}

#[test]
fn fexit_sees_return_value() {
    let test = "prog_fentry::fexit_sees_return_value";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut FExit = bpf.program_mut("fexit_getpid").unwrap().try_into().unwrap();
    let loaded = load_first(|f| program.load_target(f), GETPID);
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    program.attach(0).unwrap();
    getpid_n(3);
    assert_eq!(value_at(&bpf, "hits", 1), 3);
    assert_eq!(value_at(&bpf, "hits", 2), u64::from(std::process::id()));
}

#[test]
fn fmod_ret_replaces_return_value() {
    let test = "prog_fentry::fmod_ret_replaces_return_value";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut FModRet = bpf
        .program_mut("fmod_ret_file_open")
        .unwrap()
        .try_into()
        .unwrap();
    let loaded = program.load();
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    let link = program.attach(0).unwrap();
    let denied = std::fs::File::open("/proc/self/status");
    let program: &mut FModRet = bpf
        .program_mut("fmod_ret_file_open")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(link).unwrap();
    let err = denied.expect_err("open succeeded although fmod_ret returned -EACCES");
    assert_eq!(err.raw_os_error(), Some(libc::EACCES));
    assert!(value_at(&bpf, "hits", 3) >= 1);
    std::fs::File::open("/proc/self/status").expect("open works again after detach");
}

#[test]
fn fentry_unknown_function_is_typed_error() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut FEntry = bpf
        .program_mut("fentry_missing")
        .unwrap()
        .try_into()
        .unwrap();
    let err = program.load().unwrap_err();
    assert!(
        matches!(&err, ProgramError::FEntry(FEntryError::FunctionNotFound { function, .. }) if function == "no_such_kernel_function_xyz"),
        "{err:?}"
    );
}

#[test]
fn refused_trampolines_are_a_typed_not_supported_error() {
    let test = "prog_fentry::refused_trampolines_are_a_typed_not_supported_error";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut FEntry = bpf
        .program_mut("fentry_getpid")
        .unwrap()
        .try_into()
        .unwrap();
    let refusal = trampoline_refusal();
    match (load_first(|f| program.load_target(f), GETPID), refusal) {
        (Ok(()), None) => skip(
            test,
            "a raw fentry program loads on this kernel: there is no refusal to type",
        ),
        (Err(ProgramError::ProgramNotSupported { program, feature }), Some(_)) => {
            assert_eq!(program, "fentry_getpid");
            assert!(feature.contains("trampolines"), "{feature}");
        }
        (other, refusal) => panic!("raw probe: {refusal:?}; the library: {other:?}"),
    }
}
