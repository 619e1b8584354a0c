//! Smoke tests: facts about the running kernel that every other integration test relies on.
//!
//! They double as the canary of `cargo xtask vm-test`: run in the guest they check that the
//! kernel under test really is the one the runner booted.

use std::fs;

/// The kernel release the VM runner booted, passed to the guest on the kernel command line.
fn expected_release() -> Option<String> {
    std::env::var("VMTEST_KERNEL")
        .ok()
        .filter(|s| !s.is_empty())
}

#[test]
fn smoke_btf_vmlinux_has_btf_magic() {
    let path = "/sys/kernel/btf/vmlinux";
    let Ok(bytes) = fs::read(path) else {
        println!(
            "SKIPPED smoke::smoke_btf_vmlinux_has_btf_magic: {path} is missing (no CONFIG_DEBUG_INFO_BTF)"
        );
        return;
    };
    // BTF header: u16 magic 0xeb9f, u8 version 1, u8 flags, u32 hdr_len (native endian here).
    assert!(bytes.len() >= 24, "{path} is only {} bytes", bytes.len());
    assert_eq!(
        &bytes[..2],
        &0xeb9f_u16.to_ne_bytes(),
        "{path}: bad BTF magic"
    );
    assert_eq!(bytes[2], 1, "{path}: unexpected BTF version");
    let header_len = u32::from_ne_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    assert!(
        header_len >= 24 && (header_len as usize) < bytes.len(),
        "{path}: header length {header_len}"
    );
}

#[test]
fn smoke_proc_version_matches_osrelease() {
    let version = fs::read_to_string("/proc/version").expect("/proc/version");
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    let release = release.trim();
    assert!(
        version.starts_with("Linux version "),
        "/proc/version: {version}"
    );
    assert_eq!(
        version.split_whitespace().nth(2),
        Some(release),
        "/proc/version: {version}"
    );
    if let Some(expected) = expected_release() {
        assert_eq!(
            release, expected,
            "the guest runs another kernel than the one booted"
        );
    }
}

#[test]
fn smoke_kprobe_pmu_is_registered() {
    let path = "/sys/bus/event_source/devices/kprobe/type";
    let Ok(text) = fs::read_to_string(path) else {
        println!("SKIPPED smoke::smoke_kprobe_pmu_is_registered: no kprobe PMU ({path} missing)");
        return;
    };
    let pmu_type: u32 = text
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{path}: {text:?}: {e}"));
    // Dynamic PMU types are allocated after the fixed PERF_TYPE_* ids (0..=5).
    assert!(
        pmu_type > 5,
        "{path}: type {pmu_type} collides with a fixed perf type"
    );
}

/// Lets the VM runner prove that a failure inside the guest fails the run.
#[test]
fn smoke_no_injected_failure() {
    let injected = std::env::var("VMTEST_INJECT_FAILURE").unwrap_or_default();
    assert!(
        injected.is_empty() || injected == "0",
        "VMTEST_INJECT_FAILURE={injected}: failing on purpose"
    );
}

/// Whether this process runs inside the `cargo xtask vm-test` guest, where the runner set
/// everything up and a missing piece is the runner's bug rather than the machine's.
fn in_vm_test_guest() -> bool {
    expected_release().is_some()
}

#[test]
fn smoke_bpf_lsm_is_active() {
    let path = "/sys/kernel/security/lsm";
    let lsms = fs::read_to_string(path).unwrap_or_default();
    if lsms.split(',').any(|lsm| lsm.trim() == "bpf") {
        return;
    }
    assert!(
        !in_vm_test_guest(),
        "the guest's {path} is {lsms:?}: the runner's lsm= list must include bpf"
    );
    if lsms.is_empty() {
        println!(
            "SKIPPED smoke::smoke_bpf_lsm_is_active: {path} unreadable (securityfs not mounted?)"
        );
    } else {
        println!(
            "SKIPPED smoke::smoke_bpf_lsm_is_active: bpf is not among the active LSMs ({lsms})"
        );
    }
}

#[test]
fn smoke_bpf_filesystems_are_mounted() {
    let mounts = fs::read_to_string("/proc/mounts").expect("/proc/mounts");
    let mounted = |fstype: &str, target: &str| {
        mounts.lines().any(|line| {
            let mut fields = line.split_whitespace().skip(1);
            fields.next() == Some(target) && fields.next() == Some(fstype)
        })
    };
    let expected = [
        ("bpf", "/sys/fs/bpf"),
        ("tracefs", "/sys/kernel/tracing"),
        ("cgroup2", "/sys/fs/cgroup/unified"),
    ];
    let missing: Vec<String> = expected
        .iter()
        .filter(|(fstype, target)| !mounted(fstype, target))
        .map(|(fstype, target)| format!("{fstype} at {target}"))
        .collect();
    if missing.is_empty() {
        return;
    }
    assert!(
        !in_vm_test_guest(),
        "the guest lacks {}",
        missing.join(", ")
    );
    println!(
        "SKIPPED smoke::smoke_bpf_filesystems_are_mounted: not mounted here: {}",
        missing.join(", ")
    );
}

/// The static test binaries can load and run a program: `r0 = 42; exit` as a socket filter,
/// executed once by BPF_PROG_TEST_RUN on a zeroed Ethernet-sized packet.
#[test]
fn smoke_bpf_syscall_loads_and_runs_a_program() {
    use bpf_sys::generated::bpf_prog_type;
    use bpf_sys::{insn, prog, test_run};
    use std::os::fd::AsFd;

    let insns = [insn::mov64_imm(0, 42), insn::exit()];
    let attr = prog::ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        name: "smoke_ret42",
        insns: &insns,
        license: "GPL",
        ..Default::default()
    };
    let fd = prog::prog_load(&attr).expect("loading r0 = 42; exit");
    let packet = [0u8; 64];
    let run = test_run::TestRunAttr {
        data_in: &packet,
        ..Default::default()
    };
    let output = test_run::prog_test_run(fd.as_fd(), run).expect("BPF_PROG_TEST_RUN");
    assert_eq!(output.retval, 42);
}
