//! Attaching through BPF_PROG_ATTACH, links, raw tracepoints and perf events; each proves firing.

mod common;

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use bpf_sys::attach::{
    AttachTarget, ProgAttachAttr, Relative, prog_attach, prog_detach, prog_query,
};
use bpf_sys::generated::{
    BPF_F_ALLOW_MULTI, BPF_F_QUERY_EFFECTIVE, bpf_attach_type, bpf_link_type, bpf_prog_type,
    perf_type_id,
};
use bpf_sys::info::{link_info, prog_info};
use bpf_sys::link::{
    LinkCreateAttr, LinkKind, LinkTarget, link_create, link_detach, raw_tracepoint_open,
};
use bpf_sys::perf_event::{
    PerfConfig, PerfEventAttr, PerfEventFlags, perf_event_disable, perf_event_enable,
    perf_event_open, perf_event_query_bpf, perf_event_set_bpf, pmu_retprobe_bit, pmu_type,
    tracepoint_id,
};
use common::{counter_map, counting_prog, read_counter, unique};

struct Cgroup {
    path: PathBuf,
    fd: OwnedFd,
}

impl Cgroup {
    fn new() -> Option<Cgroup> {
        let root = PathBuf::from("/sys/fs/cgroup/unified");
        if !root.join("cgroup.procs").exists() {
            return None;
        }
        let path = root.join(unique("bpf_sys_test_"));
        std::fs::create_dir(&path).unwrap();
        let fd = std::fs::File::open(&path).unwrap().into();
        Some(Cgroup { path, fd })
    }

    /// Runs a child process inside the cgroup that sends one UDP datagram to 127.0.0.1.
    fn send_udp_from_inside(&self) {
        // The shell joins the cgroup, then becomes this test binary running only the helper.
        let script = format!(
            "echo $$ > {}/cgroup.procs && exec \"$0\" --exact udp_sender_helper --nocapture",
            self.path.display()
        );
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new("sh")
            .args(["-c", &script])
            .arg(exe)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Whether the running kernel's BTF has the name `name` (an enumerator, a struct member) in its
/// string table: what the kernel was built with, read without this crate.
fn kernel_btf_has_name(name: &str) -> bool {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default();
    let needle: Vec<u8> = [&[0u8][..], name.as_bytes(), &[0]].concat();
    btf.windows(needle.len()).any(|window| window == needle)
}

/// Sends one datagram over loopback; the cgroup test re-executes the binary to run just this
/// inside its cgroup (with `UDP_SENDER_ENV` set).
#[test]
fn udp_sender_helper() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(sock.send_to(b"hi", "127.0.0.1:9").unwrap(), 2);
}

#[test]
fn cgroup_prog_attach_query_detach_and_link() {
    let Some(cgroup) = Cgroup::new() else {
        println!(
            "SKIPPED attach::cgroup_prog_attach_query_detach_and_link: no cgroup2 at /sys/fs/cgroup/unified"
        );
        return;
    };
    let egress = bpf_attach_type::BPF_CGROUP_INET_EGRESS;
    let counter = counter_map("sys_cg_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_CGROUP_SKB,
        egress,
        "sys_cg_skb",
        &counter,
        1,
    );
    let prog_id = prog_info(prog.as_fd()).unwrap().id();
    let target = AttachTarget::Fd(cgroup.fd.as_fd());

    prog_attach(&ProgAttachAttr {
        target,
        prog_fd: prog.as_fd(),
        attach_type: egress,
        flags: BPF_F_ALLOW_MULTI,
        replace_prog_fd: None,
        relative: Relative::None,
        expected_revision: 0,
    })
    .unwrap();
    let query = prog_query(target, egress, 0).unwrap();
    assert_eq!(query.prog_ids, vec![prog_id]);
    assert_eq!(query.attach_flags, BPF_F_ALLOW_MULTI);
    // Per-program attach flags came with the query's prog_attach_flags (Linux 6.0).
    if kernel_btf_has_name("prog_attach_flags") {
        assert_eq!(query.prog_attach_flags, vec![BPF_F_ALLOW_MULTI]);
    } else {
        assert!(query.prog_attach_flags.is_empty());
    }
    let effective = prog_query(target, egress, BPF_F_QUERY_EFFECTIVE).unwrap();
    assert!(effective.prog_ids.contains(&prog_id));
    assert!(effective.prog_attach_flags.is_empty());
    cgroup.send_udp_from_inside();
    let after_attach = read_counter(&counter);
    assert!(after_attach >= 1, "cgroup_skb did not run");
    prog_detach(target, Some(prog.as_fd()), egress, 0, Relative::None, 0).unwrap();
    assert!(prog_query(target, egress, 0).unwrap().prog_ids.is_empty());

    let link = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::Fd(cgroup.fd.as_fd()),
        attach_type: egress,
        flags: 0,
        kind: LinkKind::Plain,
    })
    .unwrap();
    let info = link_info(link.as_fd()).unwrap();
    assert_eq!(info.prog_id(), prog_id);
    assert_eq!(info.link_type(), bpf_link_type::BPF_LINK_TYPE_CGROUP);
    let bpf_sys::info::LinkDetails::Cgroup {
        cgroup_id,
        attach_type,
    } = info.details()
    else {
        panic!("{:?}", info.details());
    };
    assert_eq!(attach_type, egress);
    assert_ne!(cgroup_id, 0);
    assert_eq!(
        prog_query(target, egress, 0).unwrap().prog_ids,
        vec![prog_id]
    );
    cgroup.send_udp_from_inside();
    assert!(
        read_counter(&counter) > after_attach,
        "linked cgroup_skb did not run"
    );
    link_detach(link.as_fd()).unwrap();
    assert!(prog_query(target, egress, 0).unwrap().prog_ids.is_empty());
}

#[test]
fn raw_tracepoint_fires() {
    let counter = counter_map("sys_rtp_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_RAW_TRACEPOINT,
        0,
        "sys_rtp",
        &counter,
        0,
    );
    let link = raw_tracepoint_open(Some("sys_enter"), prog.as_fd(), 0).unwrap();
    // SAFETY: getpid has no preconditions; it just makes a syscall.
    unsafe { libc::getpid() };
    assert!(read_counter(&counter) >= 1, "raw tracepoint did not run");
    let info = link_info(link.as_fd()).unwrap();
    assert_eq!(
        info.link_type(),
        bpf_link_type::BPF_LINK_TYPE_RAW_TRACEPOINT
    );
}

fn tracepoint_event() -> Option<OwnedFd> {
    let id = tracepoint_id(
        Path::new("/sys/kernel/tracing"),
        "raw_syscalls",
        "sys_enter",
    )
    .ok()?;
    let attr = PerfEventAttr {
        type_: perf_type_id::PERF_TYPE_TRACEPOINT,
        config: id,
        sample: 1,
        wakeup: 1,
        ..Default::default()
    };
    // This thread only, any CPU.
    Some(perf_event_open(&attr, 0, -1, None, 0).unwrap())
}

#[test]
fn tracepoint_perf_event_set_bpf_and_query() {
    let Some(event) = tracepoint_event() else {
        println!(
            "SKIPPED attach::tracepoint_perf_event_set_bpf_and_query: no tracefs raw_syscalls/sys_enter"
        );
        return;
    };
    let counter = counter_map("sys_tp_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_TRACEPOINT,
        0,
        "sys_tp",
        &counter,
        0,
    );
    perf_event_set_bpf(event.as_fd(), prog.as_fd()).unwrap();
    perf_event_enable(event.as_fd()).unwrap();
    // SAFETY: getpid has no preconditions; it just makes a syscall.
    unsafe { libc::getpid() };
    assert!(
        read_counter(&counter) >= 1,
        "tracepoint program did not run"
    );
    let ids = perf_event_query_bpf(event.as_fd()).unwrap();
    assert_eq!(ids, vec![prog_info(prog.as_fd()).unwrap().id()]);
}

#[test]
fn tracepoint_perf_event_link_with_cookie() {
    if !kernel_btf_has_name("BPF_PERF_EVENT") {
        println!(
            "SKIPPED attach::tracepoint_perf_event_link_with_cookie: no perf event links (no \
             BPF_PERF_EVENT in the kernel's BTF; Linux 5.15)"
        );
        return;
    }
    let Some(event) = tracepoint_event() else {
        println!(
            "SKIPPED attach::tracepoint_perf_event_link_with_cookie: no tracefs raw_syscalls/sys_enter"
        );
        return;
    };
    let counter = counter_map("sys_tpl_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_TRACEPOINT,
        0,
        "sys_tpl",
        &counter,
        0,
    );
    let link = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::Fd(event.as_fd()),
        attach_type: bpf_attach_type::BPF_PERF_EVENT,
        flags: 0,
        kind: LinkKind::PerfEvent { bpf_cookie: 7 },
    })
    .unwrap();
    perf_event_enable(event.as_fd()).unwrap();
    // SAFETY: getpid has no preconditions; it just makes a syscall.
    unsafe { libc::getpid() };
    assert!(
        read_counter(&counter) >= 1,
        "linked tracepoint program did not run"
    );
    assert_eq!(
        link_info(link.as_fd()).unwrap().link_type(),
        bpf_link_type::BPF_LINK_TYPE_PERF_EVENT
    );
}

#[test]
fn uprobe_pmu_facts() {
    let Ok(ty) = pmu_type("uprobe") else {
        println!("SKIPPED attach::uprobe_pmu_facts: no uprobe PMU");
        return;
    };
    assert!(ty >= perf_type_id::PERF_TYPE_MAX, "dynamic PMU type {ty}");
    assert!(pmu_retprobe_bit("uprobe").unwrap() < 64);
    assert!(pmu_type("no_such_pmu").is_err());
}

/// A function for uprobes to hit; `no_mangle` keeps it a real, separate symbol.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn bpf_sys_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(3)
}

/// The file and file offset the running code of `bpf_sys_uprobe_target` comes from.
fn uprobe_target_location() -> (std::path::PathBuf, u64) {
    let addr = bpf_sys_uprobe_target as extern "C" fn(u64) -> u64 as usize as u64;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [range, _perms, offset, _dev, _inode, path] = fields[..] else {
            continue;
        };
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        if (start..end).contains(&addr) {
            let offset = u64::from_str_radix(offset, 16).unwrap();
            return (path.into(), addr - start + offset);
        }
    }
    panic!("{addr:#x} not mapped from a file");
}

#[test]
fn uprobe_pmu_event_with_path_string_fires() {
    let Ok(pmu) = pmu_type("uprobe") else {
        println!("SKIPPED attach::uprobe_pmu_event_with_path_string_fires: no uprobe PMU");
        return;
    };
    let (path, offset) = uprobe_target_location();
    let path_c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let counter = counter_map("sys_up_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_KPROBE,
        0,
        "sys_uprobe",
        &counter,
        0,
    );
    let attr = PerfEventAttr {
        type_: pmu,
        config1: PerfConfig::String(&path_c),
        config2: PerfConfig::Value(offset),
        sample: 1,
        wakeup: 1,
        flags: PerfEventFlags::DISABLED,
        ..Default::default()
    };
    let event = perf_event_open(&attr, 0, -1, None, 0).unwrap();
    perf_event_set_bpf(event.as_fd(), prog.as_fd()).unwrap();
    perf_event_enable(event.as_fd()).unwrap();
    bpf_sys_uprobe_target(1);
    bpf_sys_uprobe_target(2);
    // Only this thread is traced, and only these calls hit the function.
    assert_eq!(
        read_counter(&counter),
        2,
        "uprobe did not fire once per call"
    );
    perf_event_disable(event.as_fd()).unwrap();
}

#[test]
fn uprobe_multi_link_fires() {
    if common::kernel_lacks(
        "attach::uprobe_multi_link_fires",
        "BPF_TRACE_UPROBE_MULTI",
        "uprobe_multi links",
    ) {
        return;
    }
    let (path, offset) = uprobe_target_location();
    let counter = counter_map("sys_upm_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_KPROBE,
        bpf_attach_type::BPF_TRACE_UPROBE_MULTI,
        "sys_uprobe_multi",
        &counter,
        0,
    );
    let result = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::None,
        attach_type: bpf_attach_type::BPF_TRACE_UPROBE_MULTI,
        flags: 0,
        kind: LinkKind::UprobeMulti {
            path: &path,
            offsets: &[offset],
            ref_ctr_offsets: &[],
            cookies: &[99],
            flags: 0,
            pid: std::process::id(),
        },
    });
    let link = result.unwrap();
    bpf_sys_uprobe_target(4);
    assert!(read_counter(&counter) >= 1, "uprobe_multi did not fire");
    assert_eq!(
        link_info(link.as_fd()).unwrap().link_type(),
        bpf_link_type::BPF_LINK_TYPE_UPROBE_MULTI
    );
}

#[test]
fn software_clock_perf_event_program_fires() {
    let attr = PerfEventAttr {
        type_: perf_type_id::PERF_TYPE_SOFTWARE,
        config: u64::from(bpf_sys::generated::perf_sw_ids::PERF_COUNT_SW_CPU_CLOCK),
        sample: 1000,
        flags: PerfEventFlags::FREQ | PerfEventFlags::DISABLED,
        ..Default::default()
    };
    // This thread, wherever it runs.
    let event = perf_event_open(&attr, 0, -1, None, 0).unwrap();
    let counter = counter_map("sys_pe_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_PERF_EVENT,
        0,
        "sys_perf_event",
        &counter,
        0,
    );
    perf_event_set_bpf(event.as_fd(), prog.as_fd()).unwrap();
    perf_event_enable(event.as_fd()).unwrap();
    let start = std::time::Instant::now();
    while read_counter(&counter) == 0 && start.elapsed() < std::time::Duration::from_secs(5) {
        std::hint::black_box((0..10_000u64).sum::<u64>());
    }
    perf_event_disable(event.as_fd()).unwrap();
    assert!(
        read_counter(&counter) >= 1,
        "perf_event program did not run"
    );
}

/// The syscall entry function `getpid(2)` goes through on this architecture.
const GETPID_FUNC: &str = if cfg!(target_arch = "aarch64") {
    "__arm64_sys_getpid"
} else {
    "__x64_sys_getpid"
};

#[test]
fn kprobe_and_kretprobe_pmu_events_fire() {
    // The PMU is registered when the kernel has kprobes (CONFIG_KPROBES): sysfs says so.
    if !std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        println!(
            "SKIPPED attach::kprobe_and_kretprobe_pmu_events_fire: no kprobe PMU in \
             /sys/bus/event_source/devices"
        );
        return;
    }
    let pmu = pmu_type("kprobe").unwrap();
    let retprobe_bit = pmu_retprobe_bit("kprobe").unwrap();
    let func = std::ffi::CString::new(GETPID_FUNC).unwrap();
    for (name, config) in [
        ("sys_kprobe", 0u64),
        ("sys_kretprobe", 1u64 << retprobe_bit),
    ] {
        let counter = counter_map(name);
        let prog = counting_prog(bpf_prog_type::BPF_PROG_TYPE_KPROBE, 0, name, &counter, 0);
        let attr = PerfEventAttr {
            type_: pmu,
            config,
            config1: PerfConfig::String(&func),
            config2: PerfConfig::Value(0),
            sample: 1,
            wakeup: 1,
            ..Default::default()
        };
        let event = perf_event_open(&attr, 0, -1, None, 0).unwrap();
        perf_event_set_bpf(event.as_fd(), prog.as_fd()).unwrap();
        perf_event_enable(event.as_fd()).unwrap();
        // SAFETY: getpid has no preconditions; it just makes a syscall.
        unsafe { libc::getpid() };
        assert!(read_counter(&counter) >= 1, "{name} did not fire");
    }
}

#[test]
fn fentry_through_raw_tracepoint_open_fires() {
    let test = "attach::fentry_through_raw_tracepoint_open_fires";
    // Test-run of a tracing program calls bpf_fentry_test1(), a non-inlined kernel function.
    let Some(btf_id) = common::vmlinux_func_id("bpf_fentry_test1") else {
        println!("SKIPPED {test}: the kernel's BTF has no bpf_fentry_test1 (or there is none)");
        return;
    };
    let counter = counter_map("sys_fentry_count");
    let [ld0, ld1] = bpf_sys::insn::ld_map_fd(1, std::os::fd::AsRawFd::as_raw_fd(&counter.fd()));
    let insns = common::counting_insns(ld0, ld1, 0);
    // With a verifier log, so a refusal before verification shows as an empty one.
    let loaded = bpf_sys::prog::prog_load_with_log(&bpf_sys::prog::ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_TRACING,
        expected_attach_type: bpf_attach_type::BPF_TRACE_FENTRY,
        attach_btf_id: btf_id,
        name: "sys_fentry",
        insns: &insns,
        license: "GPL",
        log_level: 1,
        ..Default::default()
    });
    let prog = match loaded {
        Err(e) if common::trampolines_refused(test, &e) => return,
        other => other.unwrap().fd,
    };
    let _link = raw_tracepoint_open(None, prog.as_fd(), 0).unwrap();
    bpf_sys::test_run::prog_test_run(prog.as_fd(), Default::default()).unwrap();
    assert!(read_counter(&counter) >= 1, "fentry did not fire");
}
