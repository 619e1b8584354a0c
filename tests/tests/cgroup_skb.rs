//! cgroup_skb: egress and ingress on a fresh cgroup, through a bpf_link and through
//! BPF_PROG_ATTACH in each mode; only the cgroup's own processes are counted.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use bpf_programs::programs::{AttachMethod, CgroupAttachMode, CgroupSkb, CgroupSkbAttachType};
use bpf_sys::attach::{AttachTarget, prog_query};
use bpf_sys::generated::bpf_attach_type;
use net_support::{TestCgroup, hits_during, open_cgroup_object};
use std::os::fd::AsFd;

/// The child's work: five datagrams over loopback, sent and received inside the cgroup.
fn exchange_datagrams(_: &str) {
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buf = [0u8; 16];
    for _ in 0..5 {
        sender
            .send_to(b"x", receiver.local_addr().unwrap())
            .unwrap();
        receiver.recv(&mut buf).unwrap();
    }
}

fn skb<'a>(bpf: &'a mut bpf_programs::Bpf, name: &str) -> &'a mut CgroupSkb {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

#[test]
fn cgroup_skb_egress_and_ingress_every_method_and_mode() {
    const TEST: &str = "cgroup_skb_egress_and_ingress_every_method_and_mode";
    if net_support::child_mode(exchange_datagrams) {
        return;
    }
    let cases = [
        (AttachMethod::Link, CgroupAttachMode::AllowMultiple),
        (AttachMethod::Auto, CgroupAttachMode::AllowMultiple),
        (AttachMethod::Legacy, CgroupAttachMode::Single),
        (AttachMethod::Legacy, CgroupAttachMode::AllowOverride),
        (AttachMethod::Legacy, CgroupAttachMode::AllowMultiple),
    ];
    for (method, mode) in cases {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(0);
        let egress = skb(&mut bpf, "count_egress");
        assert_eq!(
            egress.expected_attach_type(),
            Some(CgroupSkbAttachType::Egress)
        );
        egress.load().unwrap();
        let egress_id = egress
            .attach_with_method(&cgroup.dir, CgroupSkbAttachType::Egress, mode, method)
            .unwrap();
        let ingress = skb(&mut bpf, "count_ingress");
        ingress.load().unwrap();
        let ingress_id = ingress
            .attach_with_method(&cgroup.dir, CgroupSkbAttachType::Ingress, mode, method)
            .unwrap();
        let query = prog_query(
            AttachTarget::Fd(cgroup.dir.as_fd()),
            bpf_attach_type::BPF_CGROUP_INET_EGRESS,
            0,
        )
        .unwrap();
        assert_eq!(query.prog_ids.len(), 1, "{method:?} {mode:?}: {query:?}");

        let sent = hits_during(&bpf, 0, &cgroup, TEST, "udp");
        assert!(sent >= 5, "{method:?} {mode:?}: egress counted {sent}");
        assert!(
            net_support::hits_during(&bpf, 1, &cgroup, TEST, "udp") >= 5,
            "{method:?} {mode:?}: ingress silent"
        );

        skb(&mut bpf, "count_egress").detach(egress_id).unwrap();
        assert_eq!(
            hits_during(&bpf, 0, &cgroup, TEST, "udp"),
            0,
            "{method:?} {mode:?}"
        );
        let link = skb(&mut bpf, "count_ingress")
            .take_link(ingress_id)
            .unwrap();
        assert_eq!(link.inner().is_link(), method != AttachMethod::Legacy);
        drop(link);
        assert_eq!(
            hits_during(&bpf, 1, &cgroup, TEST, "udp"),
            0,
            "{method:?} {mode:?}"
        );
    }
}

#[test]
fn cgroup_skb_other_processes_are_not_counted() {
    const TEST: &str = "cgroup_skb_other_processes_are_not_counted";
    if net_support::child_mode(exchange_datagrams) {
        return;
    }
    let cgroup = TestCgroup::new();
    let other = TestCgroup::new();
    let mut bpf = open_cgroup_object(0);
    let egress = skb(&mut bpf, "count_egress");
    egress.load().unwrap();
    egress
        .attach(
            &cgroup.dir,
            CgroupSkbAttachType::Egress,
            CgroupAttachMode::Single,
        )
        .unwrap();
    assert_eq!(hits_during(&bpf, 0, &other, TEST, "udp"), 0);
    assert!(hits_during(&bpf, 0, &cgroup, TEST, "udp") >= 5);
}

#[test]
fn cgroup_skb_test_run() {
    let mut bpf = open_cgroup_object(0);
    let egress = skb(&mut bpf, "count_egress");
    egress.load().unwrap();
    let mut packet = vec![0u8; 64];
    packet[12] = 0x08;
    packet[14] = 0x45;
    let out = egress
        .test_run(TestRunOptions::new().data(&packet))
        .unwrap();
    assert_eq!(out.return_value, 1, "packet allowed");
    assert_eq!(integration_tests::value_at(&bpf, "hits", 0), 1);
}
