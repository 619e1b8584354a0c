//! Kernel probes (fire on the second kernel; this one has no kprobes): kprobe, kretprobe,
//! ksyscall, cookies, kprobe.multi, unknown functions.

use bpf_programs::programs::{KProbe, KProbeError, KProbeMulti, ProbeAttachMethod, ProgramError};
use integration_tests::{
    getpid_n, kernel_has_bpf_cookies, open_for_this_thread, skipped_unsupported, value_at,
};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_kprobe.bpf.o");

/// The getpid syscall's entry point (syscalls enter through an arch wrapper).
const SYS_GETPID: &str = if cfg!(target_arch = "aarch64") {
    "__arm64_sys_getpid"
} else {
    "__x64_sys_getpid"
};

#[test]
fn kprobe_entry_and_return_fire_and_stop_after_detach() {
    let test = "prog_kprobe::kprobe_entry_and_return_fire_and_stop_after_detach";
    let mut bpf = open_for_this_thread(OBJECT);
    let entry: &mut KProbe = bpf.program_mut("on_entry").unwrap().try_into().unwrap();
    entry.load().unwrap();
    let cookies = kernel_has_bpf_cookies();
    let attached = if cookies {
        entry.attach_with_cookie(SYS_GETPID, 0, 77)
    } else {
        // Older kernels take no cookie (it needs a perf event bpf_link); the probe still fires.
        assert!(entry.attach_with_cookie(SYS_GETPID, 0, 77).is_err());
        entry.attach(SYS_GETPID, 0)
    };
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
    if cookies {
        assert_eq!(value_at(&bpf, "hits", 3), 77, "cookie");
    }

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
        matches!(&err, ProgramError::KProbe(KProbeError::FunctionNotFound { function, .. }) if function == "no_such_kernel_function_xyz"),
        "{err:?}"
    );
}

#[test]
fn kprobe_multi_fires() {
    if !integration_tests::kernel_btf_has_name("BPF_TRACE_KPROBE_MULTI") {
        integration_tests::skip(
            "prog_kprobe::kprobe_multi_fires",
            "no kprobe.multi links (no BPF_TRACE_KPROBE_MULTI in the kernel's BTF; 5.18)",
        );
        return;
    }
    if !integration_tests::kernel_btf_has_name("register_fprobe") {
        integration_tests::skip(
            "prog_kprobe::kprobe_multi_fires",
            "kprobe.multi links need fprobe (no register_fprobe in the kernel's BTF)",
        );
        return;
    }
    let test = "prog_kprobe::kprobe_multi_fires";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut KProbeMulti = bpf.program_mut("on_multi").unwrap().try_into().unwrap();
    program.load().unwrap();
    let attached = program.attach(&[SYS_GETPID], &[]);
    if skipped_unsupported(test, &attached) {
        return;
    }
    attached.unwrap();
    getpid_n(5);
    assert_eq!(value_at(&bpf, "hits", 4), 5);
}

#[test]
fn kprobe_multi_attaches_by_pattern_from_its_section_and_by_glob() {
    if !integration_tests::kernel_btf_has_name("BPF_TRACE_KPROBE_MULTI") {
        integration_tests::skip(
            "prog_kprobe::kprobe_multi_attaches_by_pattern_from_its_section_and_by_glob",
            "no kprobe.multi links (no BPF_TRACE_KPROBE_MULTI in the kernel's BTF; 5.18)",
        );
        return;
    }
    if !integration_tests::kernel_btf_has_name("register_fprobe") {
        integration_tests::skip(
            "prog_kprobe::kprobe_multi_attaches_by_pattern_from_its_section_and_by_glob",
            "kprobe.multi links need fprobe (no register_fprobe in the kernel's BTF)",
        );
        return;
    }
    let test = "prog_kprobe::kprobe_multi_attaches_by_pattern_from_its_section_and_by_glob";
    let mut bpf = open_for_this_thread(OBJECT);
    let program: &mut KProbeMulti = bpf.program_mut("on_multi").unwrap().try_into().unwrap();
    program.load().unwrap();
    let missing = program
        .attach_pattern("no_such_kernel_function_zz*")
        .unwrap_err();
    assert!(
        matches!(&missing, ProgramError::KProbe(KProbeError::FunctionNotFound { function, .. })
            if function == "no_such_kernel_function_zz*"),
        "{missing:?}"
    );
    let attached = program.attach_default();
    if skipped_unsupported(test, &attached) {
        return;
    }
    let from_section = attached.unwrap();
    getpid_n(3);
    assert_eq!(value_at(&bpf, "hits", 4), 3);
    let program: &mut KProbeMulti = bpf.program_mut("on_multi").unwrap().try_into().unwrap();
    program.detach(from_section).unwrap();
    // The last letter as a wildcard.
    let pattern = format!("{}?", &SYS_GETPID[..SYS_GETPID.len() - 1]);
    program.attach_pattern(&pattern).unwrap();
    getpid_n(2);
    assert_eq!(value_at(&bpf, "hits", 4), 5);
}

/// Our tracefs probe events currently registered (group `bpf_programs`, this process).
fn our_probe_events(pid: u32) -> Vec<String> {
    let prefix = format!("bpf_programs/p{pid}_");
    [
        "/sys/kernel/tracing/kprobe_events",
        "/sys/kernel/debug/tracing/kprobe_events",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .unwrap_or_default()
    .lines()
    .filter(|line| line.contains(&prefix))
    .map(str::to_owned)
    .collect()
}

#[test]
fn kprobe_through_tracefs_events_fires_and_removes_its_event() {
    let test = "prog_kprobe::kprobe_through_tracefs_events_fires_and_removes_its_event";
    // Read once up front: the program counts this thread's getpid() calls.
    let pid = std::process::id();
    let mut bpf = open_for_this_thread(OBJECT);
    let entry: &mut KProbe = bpf.program_mut("on_entry").unwrap().try_into().unwrap();
    entry.load().unwrap();
    let attached = entry.attach_with_method(SYS_GETPID, 0, 0, ProbeAttachMethod::TraceFs);
    if skipped_unsupported(test, &attached) {
        return;
    }
    let link = attached.unwrap();
    assert_eq!(
        our_probe_events(pid).len(),
        1,
        "one kprobe_events entry while attached"
    );
    getpid_n(10);
    assert_eq!(
        value_at(&bpf, "hits", 0),
        10,
        "kprobe fired through the tracefs event"
    );

    let entry: &mut KProbe = bpf.program_mut("on_entry").unwrap().try_into().unwrap();
    entry.detach(link).unwrap();
    assert!(our_probe_events(pid).is_empty(), "event removed on detach");
    getpid_n(10);
    assert_eq!(value_at(&bpf, "hits", 0), 10, "fired after detach");
}
