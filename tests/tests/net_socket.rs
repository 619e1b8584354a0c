//! Socket filters (SO_ATTACH_BPF) and reuseport programs (SO_ATTACH_REUSEPORT_EBPF).

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;

use bpf_programs::programs::{SkReuseport, SocketFilter};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::sockopt::{bind_ipv4, set_int_option, socket};
use integration_tests::value_at;
use net_support::{TestNetns, send_udp};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");

fn open() -> Bpf {
    BpfLoader::new().load(OBJECT).expect("object opens")
}

#[test]
fn socket_filter_counts_received_datagrams_until_detached() {
    let mut bpf = open();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = receiver.local_addr().unwrap().to_string();
    let program: &mut SocketFilter = bpf.program_mut("count_socket").unwrap().try_into().unwrap();
    program.load().unwrap();
    let link = program.attach(&receiver).unwrap();
    send_udp(&addr, 5);
    let mut buf = [0u8; 16];
    for _ in 0..5 {
        assert_eq!(
            receiver.recv(&mut buf).unwrap(),
            4,
            "filter kept the whole datagram"
        );
    }
    assert_eq!(value_at(&bpf, "hits", 4), 5);

    let program: &mut SocketFilter = bpf.program_mut("count_socket").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    send_udp(&addr, 3);
    for _ in 0..3 {
        receiver.recv(&mut buf).unwrap();
    }
    assert_eq!(value_at(&bpf, "hits", 4), 5, "fired after detach");
}

#[test]
fn socket_filter_dropping_program_detaches() {
    let mut bpf = open();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = receiver.local_addr().unwrap().to_string();
    let program: &mut SocketFilter = bpf.program_mut("count_socket").unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach(receiver.as_fd()).unwrap();
    send_udp(&addr, 2);
    let mut buf = [0u8; 16];
    receiver.recv(&mut buf).unwrap();
    receiver.recv(&mut buf).unwrap();
    assert_eq!(value_at(&bpf, "hits", 4), 2);
    drop(bpf.take_program("count_socket"));
    send_udp(&addr, 2);
    receiver.recv(&mut buf).unwrap();
    receiver.recv(&mut buf).unwrap();
    assert_eq!(value_at(&bpf, "hits", 4), 2);
}

#[test]
fn socket_filter_test_run() {
    let mut bpf = open();
    let program: &mut SocketFilter = bpf.program_mut("count_socket").unwrap().try_into().unwrap();
    program.load().unwrap();
    let packet = [0u8; 60];
    let out = program
        .test_run(TestRunOptions::new().data(&packet))
        .unwrap();
    // test_run pulls the 14-byte Ethernet header before the program sees the skb.
    assert_eq!(out.return_value, 60 - 14, "returns the skb length");
    assert_eq!(value_at(&bpf, "hits", 4), 1);
}

fn reuseport_socket(addr: SocketAddrV4) -> UdpSocket {
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    set_int_option(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1).unwrap();
    bind_ipv4(fd.as_fd(), addr).unwrap();
    UdpSocket::from(fd)
}

#[test]
fn sk_reuseport_picks_sockets_until_detached() {
    let _netns = TestNetns::enter();
    let addr: SocketAddrV4 = "127.0.0.1:40003".parse().unwrap();
    let first = reuseport_socket(addr);
    let second = reuseport_socket(addr);
    let mut bpf = open();
    let program: &mut SkReuseport = bpf
        .program_mut("count_reuseport")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let link = program.attach(&first).unwrap();
    send_udp(&addr.to_string(), 10);
    let fired = value_at(&bpf, "hits", 8);
    assert!(
        fired >= 10,
        "reuseport program ran {fired} times for 10 datagrams"
    );
    let program: &mut SkReuseport = bpf
        .program_mut("count_reuseport")
        .unwrap()
        .try_into()
        .unwrap();
    program.detach(link).unwrap();
    send_udp(&addr.to_string(), 5);
    assert_eq!(value_at(&bpf, "hits", 8), fired, "fired after detach");
    drop((first, second));
}
