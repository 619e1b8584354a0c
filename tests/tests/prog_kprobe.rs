//! Kernel probes (fire on the second kernel; this one has no kprobes): kprobe, kretprobe,
//! ksyscall, cookies, kprobe.multi, unknown functions.

use bpf_programs::programs::{KProbe, KProbeError, KProbeMulti, ProgramError};
use integration_tests::{getpid_n, open_for_this_thread, skipped_unsupported, value_at};

const OBJECT: &[u8] = include_bytes!("../bpf/obj/prog_kprobe.bpf.o");

#[test]
fn kprobe_entry_and_return_fire_and_stop_after_detach() {
    let test = "prog_kprobe::kprobe_entry_and_return_fire_and_stop_after_detach";
    let mut bpf = open_for_this_thread(OBJECT);
    let entry: &mut KProbe = bpf.program_mut("on_entry").unwrap().try_into().unwrap();
    entry.load().unwrap();
    let attached = entry.attach_with_cookie("__x64_sys_getpid", 0, 77);
    if skipped_unsupported(test, &attached) {
        return;
    }
    let entry_link = attached.unwrap();
    let ret: &mut KProbe = bpf.program_mut("on_return").unwrap().try_into().unwrap();
    ret.load().unwrap();
    let ret_link = ret.attach_default().unwrap();
    getpid_n(10);
    assert_eq!(value_at(&bpf, "hits", 0), 10, "kprobe fired");
    assert_eq!(value_at(&bpf, "hits", 1), 10, "kretprobe fired");
    assert_eq!(value_at(&bpf, "hits", 3), 77, "cookie");

    let entry: &mut KProbe = bpf.program_mut("on_entry").unwrap().try_into().unwrap();
    entry.detach(entry_link).unwrap();
    let ret: &mut KProbe = bpf.program_mut("on_return").unwrap().try_into().unwrap();
    ret.detach(ret_link).unwrap();
    getpid_n(10);
    assert_eq!(value_at(&bpf, "hits", 0), 10, "fired after detach");
}

#[test]
fn kprobe_ksyscall_resolves_the_syscall_symbol() {
    let test = "prog_kprobe::kprobe_ksyscall_resolves_the_syscall_symbol";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut KProbe = bpf.program_mut("on_syscall").unwrap().try_into().unwrap();
    program.load().unwrap();
    let attached = program.attach_default();
    if skipped_unsupported(test, &attached) {
        return;
    }
    attached.unwrap();
    for _ in 0..5 {
        std::hint::black_box(std::os::unix::process::parent_id());
    }
    assert_eq!(value_at(&bpf, "hits", 2), 5);
}

#[test]
fn kprobe_unknown_function_is_typed_error() {
    let test = "prog_kprobe::kprobe_unknown_function_is_typed_error";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut KProbe = bpf.program_mut("on_entry").unwrap().try_into().unwrap();
    program.load().unwrap();
    let attached = program.attach("no_such_kernel_function_xyz", 0);
    if skipped_unsupported(test, &attached) {
        return;
    }
    let err = attached.unwrap_err();
    assert!(
        matches!(&err, ProgramError::KProbe(KProbeError::FunctionNotFound { function }) if function == "no_such_kernel_function_xyz"),
        "{err:?}"
    );
}

#[test]
fn kprobe_multi_fires() {
    let test = "prog_kprobe::kprobe_multi_fires";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut KProbeMulti = bpf.program_mut("on_multi").unwrap().try_into().unwrap();
    program.load().unwrap();
    let attached = program.attach(&["__x64_sys_getpid"], &[]);
    if skipped_unsupported(test, &attached) {
        return;
    }
    attached.unwrap();
    getpid_n(5);
    assert_eq!(value_at(&bpf, "hits", 4), 5);
}
