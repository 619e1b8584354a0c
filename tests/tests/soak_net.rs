//! Soak tests of the network attachment kinds: XDP (bpf_link and netlink), tc (TCX link and
//! netlink filter), netkit and netfilter links, socket filters and reuseport groups (socket
//! options), flow dissector (netns link and `BPF_PROG_ATTACH`), sk_lookup (netns link),
//! sockmaps (`BPF_PROG_ATTACH`) and lirc. Each attaches and detaches many times, then loads,
//! attaches and drops the whole object many times, and checks that no fd and none of the
//! kernel objects it created is left (see `soak_support`).

#[path = "net_support/mod.rs"]
mod net_support;
#[path = "soak_support/mod.rs"]
mod soak_support;

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;

use bpf_programs::maps::{MapData, SockMap};
use bpf_programs::programs::{
    AttachMethod, FlowDissector, LircMode2, Netfilter, NetfilterAttachOptions, NetfilterFamily,
    NetfilterHook, Netkit, NetkitAttachType, SchedClassifier, SkLookup, SkMsg, SkReuseport, SkSkb,
    SkSkbKind, SocketFilter, TcAttachOptions, TcAttachType, Xdp, XdpFlags, flow_dissector,
    lirc_mode2, netfilter, netkit, qdisc_remove_clsact, sched_classifier, sk_lookup, sk_msg,
    sk_reuseport, sk_skb, socket_filter, xdp,
};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::attach::{AttachTarget, Relative, prog_detach};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::link::{NetkitMode, netkit_add};
use bpf_sys::netlink::xdp::xdp_attach;
use bpf_sys::reuseport::detach_reuseport_prog;
use bpf_sys::socket::detach_socket_filter;
use bpf_sys::sockopt::{bind_ipv4, set_int_option, socket};
use integration_tests::{skip, value_at};
use net_support::{TestNetns, send_udp};
use soak_support::{Kind, kernel_btf_names, serial, soak};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");
const SOCKMAP_OBJECT: &[u8] = integration_tests::bpf_object!("net_sockmap.bpf.o");
const NETKIT_OBJECT: &[u8] = integration_tests::bpf_object!("net_netkit.bpf.o");
const LIRC_OBJECT: &[u8] = integration_tests::bpf_object!("net_lirc.bpf.o");
const PORT: u16 = 40077;

attachable!(
    Xdp => xdp::XdpLink,
    SchedClassifier => sched_classifier::SchedClassifierLink,
    SocketFilter => socket_filter::SocketFilterLink,
    SkReuseport => sk_reuseport::SkReuseportLink,
    FlowDissector => flow_dissector::FlowDissectorLink,
    SkLookup => sk_lookup::SkLookupLink,
    Netfilter => netfilter::NetfilterLink,
    Netkit => netkit::NetkitLink,
    SkMsg => sk_msg::SkMsgLink,
    SkSkb => sk_skb::SkSkbLink,
    LircMode2 => lirc_mode2::LircLink,
);

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(OBJECT)
        .expect("object opens")
}

/// Sends one datagram to `addr` and says whether counter `key` grew: at once, or within a
/// second, as the receive side runs in softirq context, which a loaded (or emulated) machine
/// may defer to ksoftirqd.
fn fires_on_udp(bpf: &Bpf, key: u32, addr: &str) -> bool {
    let before = value_at(bpf, "hits", key);
    send_udp(addr, 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while value_at(bpf, "hits", key) == before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    value_at(bpf, "hits", key) > before
}

#[test]
fn soak_xdp_link() {
    let _serial = serial();
    let _netns = TestNetns::enter();
    soak(Kind::<Xdp> {
        label: "xdp bpf_link",
        open: &open,
        program: "count_xdp",
        attach: &|p| p.attach_with_method("lo", XdpFlags::SKB_MODE, AttachMethod::Link),
        fire: &|bpf| fires_on_udp(bpf, 0, &format!("127.0.0.1:{PORT}")),
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_xdp_netlink() {
    let _serial = serial();
    let _netns = TestNetns::enter();
    let lo = if_nametoindex("lo").unwrap();
    soak(Kind::<Xdp> {
        label: "xdp netlink",
        open: &open,
        program: "count_xdp",
        attach: &|p| p.attach_with_method("lo", XdpFlags::SKB_MODE, AttachMethod::Legacy),
        fire: &|bpf| fires_on_udp(bpf, 0, &format!("127.0.0.1:{PORT}")),
        kernel_links: 0,
        remove_elsewhere: Some(&|_| {
            xdp_attach(lo, None, XdpFlags::SKB_MODE.bits(), None).unwrap();
        }),
    });
}

#[test]
fn soak_tc_tcx_link() {
    let _serial = serial();
    let test = "soak_net::soak_tc_tcx_link";
    if !kernel_btf_names("BPF_TCX_INGRESS") {
        skip(
            test,
            "the kernel has no TCX links (no BPF_TCX_INGRESS in its BTF)",
        );
        return;
    }
    let _netns = TestNetns::enter();
    soak(Kind::<SchedClassifier> {
        label: "tc TCX link",
        open: &open,
        program: "count_tcx",
        attach: &|p| p.attach_with_options("lo", TcAttachType::Ingress, TcAttachOptions::Tcx),
        fire: &|bpf| fires_on_udp(bpf, 3, &format!("127.0.0.1:{PORT}")),
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_tc_netlink() {
    let _serial = serial();
    let _netns = TestNetns::enter();
    soak(Kind::<SchedClassifier> {
        label: "tc netlink filter",
        open: &open,
        program: "count_tc",
        attach: &|p| {
            let options = TcAttachOptions::Netlink {
                priority: 0,
                handle: 0,
            };
            p.attach_with_options("lo", TcAttachType::Ingress, options)
        },
        fire: &|bpf| fires_on_udp(bpf, 2, &format!("127.0.0.1:{PORT}")),
        kernel_links: 0,
        // Removing the qdisc removes its filters; the next attach adds it back.
        remove_elsewhere: Some(&|_| qdisc_remove_clsact("lo").unwrap()),
    });
}

#[test]
fn soak_socket_filter() {
    let _serial = serial();
    let _netns = TestNetns::enter();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_nonblocking(true).unwrap();
    let addr = receiver.local_addr().unwrap().to_string();
    soak(Kind::<SocketFilter> {
        label: "socket filter",
        open: &open,
        program: "count_socket",
        attach: &|p| p.attach(&receiver),
        fire: &|bpf| {
            let fired = fires_on_udp(bpf, 4, &addr);
            while receiver.recv(&mut [0u8; 16]).is_ok() {}
            fired
        },
        kernel_links: 0,
        remove_elsewhere: Some(&|_| detach_socket_filter(receiver.as_fd()).unwrap()),
    });
}

fn reuseport_socket(addr: SocketAddrV4) -> UdpSocket {
    let sock = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    set_int_option(sock.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1).unwrap();
    bind_ipv4(sock.as_fd(), addr).unwrap();
    let socket = UdpSocket::from(sock);
    socket.set_nonblocking(true).unwrap();
    socket
}

#[test]
fn soak_sk_reuseport() {
    let _serial = serial();
    let _netns = TestNetns::enter();
    let addr = SocketAddrV4::new([127, 0, 0, 1].into(), PORT);
    let group = [reuseport_socket(addr), reuseport_socket(addr)];
    soak(Kind::<SkReuseport> {
        label: "sk_reuseport",
        open: &open,
        program: "count_reuseport",
        attach: &|p| p.attach(&group[0]),
        fire: &|bpf| {
            let fired = fires_on_udp(bpf, 8, &addr.to_string());
            for socket in &group {
                while socket.recv(&mut [0u8; 16]).is_ok() {}
            }
            fired
        },
        kernel_links: 0,
        remove_elsewhere: Some(&|_| detach_reuseport_prog(group[0].as_fd()).unwrap()),
    });
}

/// Sends one datagram over lo while an AF_PACKET socket with a hash fanout makes the kernel
/// dissect every packet's flow.
fn flow_dissector_fires(bpf: &Bpf) -> bool {
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
    fires_on_udp(bpf, 6, &format!("127.0.0.1:{PORT}"))
}

#[test]
fn soak_flow_dissector_link() {
    let _serial = serial();
    let netns = TestNetns::enter();
    soak(Kind::<FlowDissector> {
        label: "flow_dissector netns link",
        open: &open,
        program: "count_flow",
        attach: &|p| p.attach_with_method(&netns.file, AttachMethod::Link),
        fire: &flow_dissector_fires,
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_flow_dissector_prog_attach() {
    let _serial = serial();
    let netns = TestNetns::enter();
    soak(Kind::<FlowDissector> {
        label: "flow_dissector BPF_PROG_ATTACH",
        open: &open,
        program: "count_flow",
        attach: &|p| p.attach_with_method(&netns.file, AttachMethod::Legacy),
        fire: &flow_dissector_fires,
        kernel_links: 0,
        remove_elsewhere: Some(&|bpf| {
            let fd = bpf.program("count_flow").unwrap().fd().unwrap();
            prog_detach(
                AttachTarget::Ifindex(0),
                Some(fd.as_fd()),
                bpf_attach_type::BPF_FLOW_DISSECTOR,
                0,
                Relative::None,
                0,
            )
            .unwrap();
        }),
    });
}

#[test]
fn soak_sk_lookup_link() {
    let _serial = serial();
    let netns = TestNetns::enter();
    let receiver = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    receiver.set_nonblocking(true).unwrap();
    soak(Kind::<SkLookup> {
        label: "sk_lookup netns link",
        open: &open,
        program: "count_lookup",
        attach: &|p| p.attach(&netns.file),
        fire: &|bpf| {
            let fired = fires_on_udp(bpf, 7, &format!("127.0.0.1:{PORT}"));
            while receiver.recv(&mut [0u8; 16]).is_ok() {}
            fired
        },
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_netfilter_link() {
    let _serial = serial();
    let test = "soak_net::soak_netfilter_link";
    if !kernel_btf_names("BPF_NETFILTER") {
        skip(
            test,
            "the kernel has no netfilter links (no BPF_NETFILTER in its BTF)",
        );
        return;
    }
    let _netns = TestNetns::enter();
    let receiver = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    receiver.set_nonblocking(true).unwrap();
    soak(Kind::<Netfilter> {
        label: "netfilter link",
        open: &open,
        program: "count_netfilter",
        attach: &|p| {
            p.attach(NetfilterAttachOptions {
                family: NetfilterFamily::Ipv4,
                hook: NetfilterHook::LocalIn,
                priority: -128,
                defrag: false,
            })
        },
        fire: &|bpf| {
            let fired = fires_on_udp(bpf, 5, &format!("127.0.0.1:{PORT}"));
            while receiver.recv(&mut [0u8; 16]).is_ok() {}
            fired
        },
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_netkit_link() {
    let _serial = serial();
    let test = "soak_net::soak_netkit_link";
    if !kernel_btf_names("BPF_NETKIT_PRIMARY") {
        skip(
            test,
            "the kernel has no netkit links (no BPF_NETKIT_PRIMARY in its BTF)",
        );
        return;
    }
    let netns = TestNetns::enter();
    match netkit_add("nka", "nkb", NetkitMode::L3) {
        Ok(()) => {}
        Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => {
            skip(
                test,
                format!("this kernel cannot create netkit devices: {e}"),
            );
            return;
        }
        Err(e) => panic!("creating a netkit pair: {e}"),
    }
    netns.ip(&["addr", "add", "10.9.0.1/24", "dev", "nka"]);
    netns.ip(&["link", "set", "nka", "up"]);
    netns.ip(&["link", "set", "nkb", "up"]);
    netns.wait_until_up("nka");
    let open_netkit = || {
        BpfLoader::new()
            .set_global("target_port", &PORT)
            .load(NETKIT_OBJECT)
            .expect("object opens")
    };
    soak(Kind::<Netkit> {
        label: "netkit link",
        open: &open_netkit,
        program: "count_primary",
        attach: &|p| p.attach("nka", NetkitAttachType::Primary),
        fire: &|bpf| {
            let bss = bpf_programs::maps::GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
            let before = bss.get::<u64>("primary_hits").unwrap();
            send_udp(&format!("10.9.0.3:{PORT}"), 1);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
            while bss.get::<u64>("primary_hits").unwrap() == before
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            bss.get::<u64>("primary_hits").unwrap() > before
        },
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

fn open_sockmap_object() -> Bpf {
    BpfLoader::new().load(SOCKMAP_OBJECT).expect("object opens")
}

/// Puts `socket` into the sockmap, sends "hello" through the pair, takes it out again; says
/// whether counter `key` grew.
fn fires_through_sockmap(
    bpf: &Bpf,
    map: &mut SockMap<MapData>,
    key: u32,
    server_side: bool,
) -> bool {
    let before = value_at(bpf, "hits", key);
    let (mut client, mut server) = tcp_pair();
    let member = if server_side {
        server.as_fd()
    } else {
        client.as_fd()
    };
    map.set(0, member, 0).unwrap();
    client.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    server.read_exact(&mut buf).unwrap();
    map.clear_index(0).unwrap();
    value_at(bpf, "hits", key) > before
}

fn detach_from_map(bpf: &Bpf, program: &str, map: &SockMap<MapData>, attach_type: u32) {
    let fd = bpf.program(program).unwrap().fd().unwrap();
    prog_detach(
        AttachTarget::Fd(map.fd()),
        Some(fd.as_fd()),
        attach_type,
        0,
        Relative::None,
        0,
    )
    .unwrap();
}

#[test]
fn soak_sk_msg_prog_attach() {
    let _serial = serial();
    let map = std::cell::RefCell::new(SockMap::<MapData>::create(2, 0).unwrap());
    soak(Kind::<SkMsg> {
        label: "sk_msg BPF_PROG_ATTACH",
        open: &open_sockmap_object,
        program: "count_msg",
        attach: &|p| p.attach(map.borrow().fd()),
        fire: &|bpf| fires_through_sockmap(bpf, &mut map.borrow_mut(), 0, false),
        kernel_links: 0,
        remove_elsewhere: Some(&|bpf| {
            detach_from_map(
                bpf,
                "count_msg",
                &map.borrow(),
                bpf_attach_type::BPF_SK_MSG_VERDICT,
            )
        }),
    });
}

#[test]
fn soak_sk_skb_prog_attach() {
    let _serial = serial();
    let map = std::cell::RefCell::new(SockMap::<MapData>::create(2, 0).unwrap());
    soak(Kind::<SkSkb> {
        label: "sk_skb BPF_PROG_ATTACH",
        open: &open_sockmap_object,
        program: "judge_stream",
        attach: &|p| p.attach_as(map.borrow().fd(), SkSkbKind::StreamVerdict),
        fire: &|bpf| fires_through_sockmap(bpf, &mut map.borrow_mut(), 2, true),
        kernel_links: 0,
        remove_elsewhere: Some(&|bpf| {
            detach_from_map(
                bpf,
                "judge_stream",
                &map.borrow(),
                bpf_attach_type::BPF_SK_SKB_STREAM_VERDICT,
            )
        }),
    });
}

#[test]
fn soak_lirc_prog_attach() {
    let _serial = serial();
    let test = "soak_net::soak_lirc_prog_attach";
    let Ok(device) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/lirc0")
    else {
        skip(
            test,
            "no /dev/lirc0 (lirc_mode2 needs RC_CORE built in and a lirc device)",
        );
        return;
    };
    let open_lirc = || BpfLoader::new().load(LIRC_OBJECT).expect("object opens");
    soak(Kind::<LircMode2> {
        label: "lirc_mode2 BPF_PROG_ATTACH",
        open: &open_lirc,
        program: "decode_ir",
        attach: &|p| p.attach(&device),
        // A loopback device (rc-loopback) receives what is sent: one pulse of 1 ms.
        fire: &|bpf| {
            let before = value_at(bpf, "hits", 0);
            (&device).write_all(&1000u32.to_ne_bytes()).unwrap();
            net_support::eventually("the lirc program ran", || value_at(bpf, "hits", 0) > before);
            true
        },
        kernel_links: 0,
        remove_elsewhere: None,
    });
}
