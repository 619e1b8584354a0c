//! Uprobes on a function of this test binary: entry, return, cookie, pid filter, multi,
//! library-name resolution and unknown symbols.

use bpf_programs::maps::HashMap;
use bpf_programs::programs::{ProgramError, UProbe, UProbeError, UProbeLocation, UProbeMulti};
use bpf_programs::{Bpf, BpfLoader};
use integration_tests::{gettid, kernel_has_bpf_cookies, skipped_unsupported};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_uprobe.bpf.o");

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn uprobe_test_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3) + 1)
}

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn uprobe_test_other(x: u64) -> u64 {
    std::hint::black_box(x ^ 0x55)
}

fn value(bpf: &Bpf, key: u32) -> u64 {
    let map: HashMap<_, u32, u64> = HashMap::try_from(bpf.map("hits").unwrap()).unwrap();
    map.get(&key, 0).unwrap().unwrap_or(0)
}

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(OBJECT)
        .unwrap()
}

fn call_target(n: u64) {
    for i in 0..n {
        std::hint::black_box(uprobe_test_target(std::hint::black_box(i)));
    }
}

#[test]
fn uprobe_entry_fires_with_cookie_and_stops_after_detach() {
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    let program: &mut UProbe = bpf.program_mut("count_entry").unwrap().try_into().unwrap();
    program.load().unwrap();
    let cookies = kernel_has_bpf_cookies();
    let link = if cookies {
        program.attach("uprobe_test_target", &exe, None, Some(0xc00c1e))
    } else {
        // Older kernels take no cookie (it needs a perf event bpf_link); the probe still fires.
        assert!(
            program
                .attach("uprobe_test_target", &exe, None, Some(0xc00c1e))
                .is_err()
        );
        program.attach("uprobe_test_target", &exe, None, None)
    }
    .unwrap();
    call_target(5);
    assert_eq!(value(&bpf, 0), 5, "entry probe fired 5 times");
    if cookies {
        assert_eq!(value(&bpf, 3), 0xc00c1e, "cookie seen by the program");
    }

    let program: &mut UProbe = bpf.program_mut("count_entry").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    call_target(5);
    assert_eq!(value(&bpf, 0), 5, "fired after detach");
}

#[test]
fn uprobe_return_sees_return_value_with_pid_filter() {
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    let program: &mut UProbe = bpf.program_mut("count_return").unwrap().try_into().unwrap();
    program.load().unwrap();
    program
        .attach("uprobe_test_target", &exe, Some(std::process::id()), None)
        .unwrap();
    std::hint::black_box(uprobe_test_target(std::hint::black_box(41)));
    assert_eq!(value(&bpf, 1), 1);
    assert_eq!(value(&bpf, 4), 41 * 3 + 1, "return value");
    drop(bpf);
}

#[test]
fn uprobe_attach_by_library_name_and_unknown_names() {
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    let program: &mut UProbe = bpf.program_mut("count_entry").unwrap().try_into().unwrap();
    program.load().unwrap();
    // libc resolved through this process's mappings; getpid is in every libc.
    let cookie = kernel_has_bpf_cookies().then_some(7);
    program
        .attach("getpid", "libc", Some(std::process::id()), cookie)
        .unwrap();
    let err = program
        .attach("no_such_function_xyz", &exe, None, None)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::UProbe(UProbeError::SymbolNotFound { symbol, .. }) if symbol == "no_such_function_xyz"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no_such_function_xyz"));
    assert!(
        err.to_string().contains(&format!("`{}`", program.name())),
        "{err}"
    );
    let err = program
        .attach("x", "libnosuchlibrary_xyz", None, None)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::UProbe(UProbeError::BinaryNotFound { name, .. }) if name == "libnosuchlibrary_xyz"),
        "{err:?}"
    );
    // glibc does not cache getpid; std calls it each time.
    let before = value(&bpf, 0);
    for _ in 0..3 {
        std::hint::black_box(std::process::id());
    }
    assert!(value(&bpf, 0) >= before + 3, "libc getpid probe fired");
}

#[test]
fn uprobe_multi_fires_on_each_offset() {
    if !integration_tests::kernel_btf_has_name("BPF_TRACE_UPROBE_MULTI") {
        integration_tests::skip(
            "prog_uprobe::uprobe_multi_fires_on_each_offset",
            "no uprobe.multi links (no BPF_TRACE_UPROBE_MULTI in the kernel's BTF; 6.6)",
        );
        return;
    }
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    let program: &mut UProbeMulti = bpf.program_mut("count_multi").unwrap().try_into().unwrap();
    program.load().unwrap();
    let attached = program.attach(
        &[
            UProbeLocation::Symbol("uprobe_test_target"),
            UProbeLocation::Symbol("uprobe_test_other"),
        ],
        &exe,
        None,
        &[11, 22],
    );
    if skipped_unsupported("prog_uprobe::uprobe_multi_fires_on_each_offset", &attached) {
        return;
    }
    let link = attached.unwrap();
    call_target(2);
    assert_eq!(value(&bpf, 3), 11);
    std::hint::black_box(uprobe_test_other(std::hint::black_box(1)));
    assert_eq!(value(&bpf, 2), 3);
    assert_eq!(value(&bpf, 3), 22);
    let program: &mut UProbeMulti = bpf.program_mut("count_multi").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    call_target(2);
    assert_eq!(value(&bpf, 2), 3, "fired after detach");
}

#[test]
fn uprobe_multi_attaches_by_pattern_from_its_section_and_by_glob() {
    if !integration_tests::kernel_btf_has_name("BPF_TRACE_UPROBE_MULTI") {
        integration_tests::skip(
            "prog_uprobe::uprobe_multi_attaches_by_pattern_from_its_section_and_by_glob",
            "no uprobe.multi links (no BPF_TRACE_UPROBE_MULTI in the kernel's BTF; 6.6)",
        );
        return;
    }
    let test = "prog_uprobe::uprobe_multi_attaches_by_pattern_from_its_section_and_by_glob";
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    let program: &mut UProbeMulti = bpf
        .program_mut("count_multi_pattern")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let attached = program.attach_default(None);
    if skipped_unsupported(test, &attached) {
        return;
    }
    let from_section = attached.unwrap();
    call_target(2);
    std::hint::black_box(uprobe_test_other(std::hint::black_box(1)));
    assert_eq!(value(&bpf, 6), 3, "both uprobe_test_* functions are probed");
    let program: &mut UProbeMulti = bpf
        .program_mut("count_multi_pattern")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(from_section).unwrap();
    program
        .attach_pattern("uprobe_test_oth?r", &exe, None)
        .unwrap();
    let missing = program
        .attach_pattern("no_such_function_zz*", &exe, None)
        .unwrap_err();
    assert!(
        matches!(&missing, ProgramError::UProbe(UProbeError::SymbolNotFound { symbol, .. })
            if symbol == "no_such_function_zz*"),
        "{missing:?}"
    );
    call_target(2);
    std::hint::black_box(uprobe_test_other(std::hint::black_box(1)));
    assert_eq!(value(&bpf, 6), 4, "only uprobe_test_other matches");
}

#[test]
fn uprobe_attach_default_uses_section_target() {
    let mut bpf = open();
    let program: &mut UProbe = bpf.program_mut("count_other").unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach_default(None).unwrap();
    for i in 0..4 {
        std::hint::black_box(uprobe_test_other(std::hint::black_box(i)));
    }
    assert_eq!(value(&bpf, 5), 4);
    let plain: &mut UProbe = bpf.program_mut("count_entry").unwrap().try_into().unwrap();
    plain.load().unwrap();
    let err = plain.attach_default(None).unwrap_err();
    assert!(
        matches!(&err, ProgramError::UProbe(UProbeError::NoTarget { program }) if program == "count_entry"),
        "{err:?}"
    );
}
