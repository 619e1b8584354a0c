//! Programs attached to a network namespace: sk_lookup, flow_dissector (link and
//! BPF_PROG_ATTACH), netfilter hooks.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use std::net::UdpSocket;
use std::os::fd::AsFd;

use bpf_programs::programs::{
    AttachMethod, FlowDissector, Netfilter, NetfilterAttachOptions, NetfilterFamily, NetfilterHook,
    ProgramError, SkLookup,
};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::attach::{AttachTarget, prog_query};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::sockopt::{set_int_option, socket};
use integration_tests::value_at;
use net_support::{TestNetns, send_udp};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");
const PORT: u16 = 40004;

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(OBJECT)
        .expect("object opens")
}

/// Receives `count` datagrams on `socket`.
fn drain(socket: &UdpSocket, count: usize) {
    let mut buf = [0u8; 16];
    for _ in 0..count {
        socket.recv(&mut buf).unwrap();
    }
}

#[test]
fn sk_lookup_runs_on_lookups_until_detached() {
    let netns = TestNetns::enter();
    let receiver = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    let mut bpf = open();
    let program: &mut SkLookup = bpf.program_mut("count_lookup").unwrap().try_into().unwrap();
    program.load().unwrap();
    let link = program.attach(&netns.file).unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    drain(&receiver, 10);
    assert!(value_at(&bpf, "hits", 7) >= 10, "sk_lookup did not run");
    let program: &mut SkLookup = bpf.program_mut("count_lookup").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    let before = value_at(&bpf, "hits", 7);
    send_udp(&format!("127.0.0.1:{PORT}"), 5);
    drain(&receiver, 5);
    assert_eq!(value_at(&bpf, "hits", 7), before, "ran after detach");
}

#[test]
fn netfilter_local_in_counts_until_detached() {
    let _netns = TestNetns::enter();
    let receiver = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    let mut bpf = open();
    let program: &mut Netfilter = bpf
        .program_mut("count_netfilter")
        .unwrap()
        .try_into()
        .unwrap();
    if !integration_tests::kernel_enum_has("bpf_prog_type", "BPF_PROG_TYPE_NETFILTER") {
        assert!(
            matches!(
                program.load(),
                Err(ProgramError::ProgramTypeNotSupported { .. })
            ),
            "a kernel without netfilter programs gets a typed error"
        );
        integration_tests::skip(
            "net_netns::netfilter_local_in_counts_until_detached",
            "the kernel's enum bpf_prog_type has no BPF_PROG_TYPE_NETFILTER",
        );
        return;
    }
    program.load().unwrap();
    let link = program
        .attach(NetfilterAttachOptions {
            family: NetfilterFamily::Ipv4,
            hook: NetfilterHook::LocalIn,
            priority: -128,
            defrag: false,
        })
        .unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    drain(&receiver, 10);
    let fired = value_at(&bpf, "hits", 5);
    assert!(
        fired >= 10,
        "netfilter hook ran {fired} times for 10 datagrams"
    );
    let program: &mut Netfilter = bpf
        .program_mut("count_netfilter")
        .unwrap()
        .try_into()
        .unwrap();
    let link = program.take_link(link).unwrap();
    drop(link);
    send_udp(&format!("127.0.0.1:{PORT}"), 5);
    drain(&receiver, 5);
    assert_eq!(
        value_at(&bpf, "hits", 5),
        fired,
        "ran after the link dropped"
    );
}

fn flow_dissector_prog_ids(netns: &TestNetns) -> Vec<u32> {
    prog_query(
        AttachTarget::Fd(netns.file.as_fd()),
        bpf_attach_type::BPF_FLOW_DISSECTOR,
        0,
    )
    .unwrap()
    .prog_ids
}

/// Sends UDP over lo while an AF_PACKET socket with a hash fanout makes the kernel dissect
/// every packet's flow.
fn dissect_traffic(count: usize) {
    let packet = socket(
        libc::AF_PACKET,
        libc::SOCK_RAW,
        i32::from((libc::ETH_P_ALL as u16).to_be()),
    )
    .unwrap();
    let group = (std::process::id() & 0xffff) as i32;
    set_int_option(
        packet.as_fd(),
        libc::SOL_PACKET,
        libc::PACKET_FANOUT,
        group | ((libc::PACKET_FANOUT_HASH as i32) << 16),
    )
    .unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), count);
}

#[test]
fn flow_dissector_link_and_prog_attach_run_until_detached() {
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let netns = TestNetns::enter();
        let mut bpf = open();
        let program: &mut FlowDissector =
            bpf.program_mut("count_flow").unwrap().try_into().unwrap();
        program.load().unwrap();
        let prog_id = program.info().unwrap().id();
        let link = program.attach_with_method(&netns.file, method).unwrap();
        assert_eq!(flow_dissector_prog_ids(&netns), vec![prog_id], "{method:?}");
        dissect_traffic(10);
        let fired = value_at(&bpf, "hits", 6);
        assert!(fired >= 10, "{method:?}: flow dissector ran {fired} times");
        let program: &mut FlowDissector =
            bpf.program_mut("count_flow").unwrap().try_into().unwrap();
        program.detach(link).unwrap();
        net_support::eventually("the flow dissector is detached", || {
            flow_dissector_prog_ids(&netns).is_empty()
        });
        dissect_traffic(5);
        assert_eq!(
            value_at(&bpf, "hits", 6),
            fired,
            "{method:?}: ran after detach"
        );
    }
}

#[test]
fn flow_dissector_test_run() {
    let mut bpf = open();
    let program: &mut FlowDissector = bpf.program_mut("count_flow").unwrap().try_into().unwrap();
    program.load().unwrap();
    let mut packet = vec![0u8; 64];
    packet[12] = 0x08;
    packet[14] = 0x45;
    packet[23] = 17;
    program
        .test_run(TestRunOptions::new().data(&packet))
        .unwrap();
    assert_eq!(value_at(&bpf, "hits", 6), 1);
}
