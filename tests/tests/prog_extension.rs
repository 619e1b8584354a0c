//! freplace: replace a global function of a loaded syscall program and see its result change.

use std::os::fd::AsFd;

use bpf_programs::Bpf;
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{Extension, FEntry, FEntryError, ProgramError, Syscall};
use integration_tests::skipped_unsupported;

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_extension.bpf.o");

#[test]
fn extension_replaces_function() {
    if !integration_tests::kernel_btf_has_name("BPF_PROG_TYPE_SYSCALL") {
        integration_tests::skip(
            "prog_extension::extension_replaces_function",
            "the kernel has no syscall programs (no BPF_PROG_TYPE_SYSCALL in its BTF)",
        );
        return;
    }
    let test = "prog_extension::extension_replaces_function";
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let mut target: Syscall = bpf.take_program("run_compute").unwrap().try_into().unwrap();
    target.load().unwrap();
    let ctx = 5u32.to_ne_bytes();
    assert_eq!(target.run(&ctx).unwrap(), 6);

    let extension: &mut Extension = bpf
        .program_mut("compute_replaced")
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(extension.section_function(), Some("compute"));
    let loaded = extension.load(target.fd().unwrap().as_fd(), "compute");
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    let link = extension.attach().unwrap();
    assert_eq!(target.run(&ctx).unwrap(), 500);
    extension.detach(link).unwrap();
    assert_eq!(target.run(&ctx).unwrap(), 6);
}

#[test]
fn fentry_on_a_function_of_a_loaded_bpf_program_fires() {
    if !integration_tests::kernel_btf_has_name("BPF_PROG_TYPE_SYSCALL") {
        integration_tests::skip(
            "prog_extension::fentry_on_a_function_of_a_loaded_bpf_program_fires",
            "the kernel has no syscall programs (no BPF_PROG_TYPE_SYSCALL in its BTF)",
        );
        return;
    }
    let test = "prog_extension::fentry_on_a_function_of_a_loaded_bpf_program_fires";
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let mut target: Syscall = bpf.take_program("run_compute").unwrap().try_into().unwrap();
    target.load().unwrap();
    let tracer: &mut FEntry = bpf
        .program_mut("trace_compute")
        .unwrap()
        .try_into()
        .unwrap();
    let loaded = tracer.load_on_program(target.fd().unwrap().as_fd(), "compute");
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    let link = tracer.attach(0).unwrap();
    for x in [3u32, 4, 7] {
        target.run(&x.to_ne_bytes()).unwrap();
    }
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    assert_eq!(
        bss.get::<u64>("traced_calls").unwrap(),
        3,
        "fentry fired per call"
    );
    assert_eq!(
        bss.get::<u32>("traced_last_x").unwrap(),
        7,
        "fentry saw the argument"
    );
    drop(bss);

    let tracer: &mut FEntry = bpf
        .program_mut("trace_compute")
        .unwrap()
        .try_into()
        .unwrap();
    tracer.detach(link).unwrap();
    target.run(&1u32.to_ne_bytes()).unwrap();
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    assert_eq!(
        bss.get::<u64>("traced_calls").unwrap(),
        3,
        "fired after detach"
    );
}

#[test]
fn fentry_on_a_missing_program_function_is_typed_error() {
    if !integration_tests::kernel_btf_has_name("BPF_PROG_TYPE_SYSCALL") {
        integration_tests::skip(
            "prog_extension::fentry_on_a_missing_program_function_is_typed_error",
            "the kernel has no syscall programs (no BPF_PROG_TYPE_SYSCALL in its BTF)",
        );
        return;
    }
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let mut target: Syscall = bpf.take_program("run_compute").unwrap().try_into().unwrap();
    target.load().unwrap();
    let tracer: &mut FEntry = bpf
        .program_mut("trace_compute")
        .unwrap()
        .try_into()
        .unwrap();
    let err = tracer
        .load_on_program(target.fd().unwrap().as_fd(), "no_such_function")
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::FEntry(FEntryError::FunctionNotFound { function, .. }) if function == "no_such_function"),
        "{err:?}"
    );
}
