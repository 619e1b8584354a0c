//! Attaching through BPF_PROG_ATTACH, links, raw tracepoints and perf events; each proves firing.

mod common;

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use bpf_sys::attach::{
    AttachTarget, ProgAttachAttr, Relative, prog_attach, prog_detach, prog_query,
};
use bpf_sys::generated::{
    BPF_F_ALLOW_MULTI, bpf_attach_type, bpf_link_type, bpf_prog_type, perf_type_id,
};
use bpf_sys::info::{link_info, prog_info};
use bpf_sys::link::{
    LinkCreateAttr, LinkKind, LinkTarget, link_create, link_detach, raw_tracepoint_open,
};
use bpf_sys::perf_event::{
    PerfEventAttr, perf_event_enable, perf_event_open, perf_event_query_bpf, perf_event_set_bpf,
    pmu_retprobe_bit, pmu_type, tracepoint_id,
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

    /// Runs a shell in the cgroup that sends one UDP datagram to 127.0.0.1.
    fn send_udp_from_inside(&self) {
        let script = format!(
            "echo $$ > {}/cgroup.procs && echo hi > /dev/udp/127.0.0.1/9",
            self.path.display()
        );
        common::run("bash", &["-c", &script]);
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
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
    let id = tracepoint_id("raw_syscalls", "sys_enter").ok()?;
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
