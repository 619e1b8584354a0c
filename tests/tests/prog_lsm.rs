//! BPF LSM (fires on the second kernel booted with `lsm=...,bpf`; refused here).

use bpf_programs::programs::{Lsm, LsmError, ProgramError};
use integration_tests::{counter, open_for_this_thread, skip, skipped_unsupported};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_lsm.bpf.o");

fn bpf_lsm_active() -> bool {
    std::fs::read_to_string("/sys/kernel/security/lsm")
        .map(|list| list.split(',').any(|lsm| lsm.trim() == "bpf"))
        .unwrap_or(false)
}

#[test]
fn lsm_file_open_fires_and_stops_after_detach() {
    let test = "prog_lsm::lsm_file_open_fires_and_stops_after_detach";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut Lsm = bpf.program_mut("count_opens").unwrap().try_into().unwrap();
    let loaded = program.load();
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    if !bpf_lsm_active() {
        skip(test, "bpf is not in /sys/kernel/security/lsm");
        return;
    }
    let link = program.attach().unwrap();
    for _ in 0..4 {
        drop(std::fs::File::open("/proc/self/status").unwrap());
    }
    assert_eq!(counter(&bpf, "hits"), 4);
    let program: &mut Lsm = bpf.program_mut("count_opens").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    drop(std::fs::File::open("/proc/self/status").unwrap());
    assert_eq!(counter(&bpf, "hits"), 4, "fired after detach");
}

#[test]
fn lsm_unknown_hook_is_typed_error() {
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut Lsm = bpf.program_mut("missing_hook").unwrap().try_into().unwrap();
    let err = program.load().unwrap_err();
    assert!(
        matches!(&err, ProgramError::Lsm(LsmError::HookNotFound { hook, .. }) if hook == "no_such_hook_xyz"),
        "{err:?}"
    );
}
