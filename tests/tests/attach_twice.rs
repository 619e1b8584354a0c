//! What a second attach to the same target does, per attachment kind (as each kind's rustdoc
//! says): refused with `AlreadyAttached` (this program is there) or `AttachPointBusy` (another
//! program holds a one-program target) where the kernel would replace silently or answer with
//! a bare errno; a second, independent attachment where the kernel runs several.

#[path = "net_support/mod.rs"]
mod net_support;

use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;

use bpf_programs::maps::{MapData, SockMap};
use bpf_programs::programs::{
    AttachMethod, CgroupAttachError, CgroupAttachMode, CgroupSockAddr, FlowDissector, Netfilter,
    NetfilterAttachOptions, NetfilterFamily, NetfilterHook, PerfEvent, PerfEventScope, PerfTypeId,
    ProgramError, RawTracePoint, SamplePolicy, SchedClassifier, SkLookup, SkMsg, SkReuseport,
    SocketFilter, TcAttachOptions, TcAttachType, TracePoint, Xdp, XdpFlags,
};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::attach::{AttachTarget, prog_query};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::tc::{TcAttachPoint, tc_filter_dump};
use bpf_sys::netlink::xdp::xdp_query;
use bpf_sys::sockopt::{bind_ipv4, set_int_option, socket};
use integration_tests::{counter, getpid_n, open_for_this_thread, skip, value_at};
use net_support::{TestCgroup, TestNetns, open_cgroup_object, send_udp};

const NET: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");
const TRACEPOINT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
const RAW_TP: &[u8] = integration_tests::bpf_object!("prog_raw_tracepoint.bpf.o");
const PERF: &[u8] = integration_tests::bpf_object!("prog_perf_event.bpf.o");
const SOCKMAP: &[u8] = integration_tests::bpf_object!("net_sockmap.bpf.o");
const PORT: u16 = 40079;

/// Waits (up to 2 s: receiving runs in softirq context, which a loaded or emulated machine
/// may defer) until one of `sockets` has a datagram, and takes it: the programs on its way
/// have run by then.
fn receive_one(sockets: &[&UdpSocket]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        for socket in sockets {
            socket.set_nonblocking(true).unwrap();
            if socket.recv(&mut [0u8; 16]).is_ok() {
                return;
            }
        }
        assert!(std::time::Instant::now() < deadline, "no datagram arrived");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn open_net() -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(NET)
        .expect("object opens")
}

fn program<'a, P>(bpf: &'a mut Bpf, name: &str) -> &'a mut P
where
    &'a mut P: TryFrom<&'a mut bpf_programs::programs::Program, Error = ProgramError>,
{
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

fn loaded<P>(name: &str, open: impl Fn() -> Bpf) -> (Bpf, u32)
where
    for<'a> &'a mut P: TryFrom<&'a mut bpf_programs::programs::Program, Error = ProgramError>,
{
    let mut bpf = open();
    bpf.program_mut(name).unwrap().load().unwrap();
    let id = bpf.program(name).unwrap().info().unwrap().id();
    let _: &mut P = program(&mut bpf, name);
    (bpf, id)
}

/// `AttachPointBusy` for `program`, whose message names the program and `occupant_id`.
fn assert_busy(err: &ProgramError, program: &str, occupant_id: Option<u32>) {
    assert!(
        matches!(err, ProgramError::AttachPointBusy { program: p, .. } if p == program),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&format!("`{program}`")), "{text}");
    if let Some(id) = occupant_id {
        assert!(
            text.contains(&id.to_string()),
            "{text} should name program {id}"
        );
    }
}

fn assert_already(err: &ProgramError, program: &str, target: &str) {
    assert!(
        matches!(err, ProgramError::AlreadyAttached { program: p, .. } if p == program),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("`{program}`")) && text.contains(target),
        "{text} should name `{program}` and {target}"
    );
}

#[test]
fn socket_filter_on_a_filtered_socket_is_refused() {
    let _netns = TestNetns::enter();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.set_nonblocking(true).unwrap();
    let addr = receiver.local_addr().unwrap().to_string();
    let (mut first, _) = loaded::<SocketFilter>("count_socket", open_net);
    let (mut second, _) = loaded::<SocketFilter>("count_socket", open_net);
    let id = program::<SocketFilter>(&mut first, "count_socket")
        .attach(&receiver)
        .unwrap();
    for bpf in [&mut first, &mut second] {
        let err = program::<SocketFilter>(bpf, "count_socket")
            .attach(&receiver)
            .unwrap_err();
        assert_busy(&err, "count_socket", None);
        assert!(err.to_string().contains("socket filter"), "{err}");
    }
    send_udp(&addr, 1);
    receive_one(&[&receiver]);
    assert_eq!(
        value_at(&first, "hits", 4),
        1,
        "the first filter still runs"
    );

    program::<SocketFilter>(&mut first, "count_socket")
        .detach(id)
        .unwrap();
    program::<SocketFilter>(&mut second, "count_socket")
        .attach(&receiver)
        .unwrap();
    send_udp(&addr, 1);
    receive_one(&[&receiver]);
    assert_eq!(value_at(&second, "hits", 4), 1, "the second filter runs");
    assert_eq!(value_at(&first, "hits", 4), 1, "the first one is gone");
}

#[test]
fn cgroup_single_mode_refuses_an_occupied_hook_and_links_run_side_by_side() {
    let cgroup = TestCgroup::new();
    let open = || open_cgroup_object(PORT);
    let (mut first, first_id) = loaded::<CgroupSockAddr>("count_sendmsg4", open);
    let (mut second, second_id) = loaded::<CgroupSockAddr>("count_sendmsg4", open);
    let query = || {
        prog_query(
            AttachTarget::Fd(cgroup.dir.as_fd()),
            bpf_attach_type::BPF_CGROUP_UDP4_SENDMSG,
            0,
        )
        .unwrap()
        .prog_ids
    };

    // Single is only enforced by BPF_PROG_ATTACH: a link is refused, Auto uses the former.
    let err = program::<CgroupSockAddr>(&mut first, "count_sendmsg4")
        .attach_with_method(&cgroup.dir, CgroupAttachMode::Single, AttachMethod::Link)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProgramError::CgroupAttach(CgroupAttachError::ModeNeedsProgAttach { .. })
        ),
        "{err:?}"
    );
    let id = program::<CgroupSockAddr>(&mut first, "count_sendmsg4")
        .attach(&cgroup.dir, CgroupAttachMode::Single)
        .unwrap();
    let err = program::<CgroupSockAddr>(&mut second, "count_sendmsg4")
        .attach(&cgroup.dir, CgroupAttachMode::Single)
        .unwrap_err();
    assert_busy(&err, "count_sendmsg4", Some(first_id));
    let err = program::<CgroupSockAddr>(&mut first, "count_sendmsg4")
        .attach(&cgroup.dir, CgroupAttachMode::Single)
        .unwrap_err();
    assert_already(&err, "count_sendmsg4", "sendmsg4");
    assert_eq!(query(), [first_id], "the first program is untouched");
    program::<CgroupSockAddr>(&mut first, "count_sendmsg4")
        .detach(id)
        .unwrap();

    // AllowMultiple (the default): two links, both attached; the same program twice too.
    let mode = CgroupAttachMode::default();
    assert_eq!(mode, CgroupAttachMode::AllowMultiple);
    let mut links = Vec::new();
    for which in [0, 1, 0] {
        let bpf = if which == 0 { &mut first } else { &mut second };
        let id = program::<CgroupSockAddr>(bpf, "count_sendmsg4")
            .attach(&cgroup.dir, mode)
            .unwrap();
        let link = program::<CgroupSockAddr>(bpf, "count_sendmsg4")
            .take_link(id)
            .unwrap();
        assert!(link.inner().is_link());
        links.push(link);
    }
    let mut ids = query();
    ids.sort_unstable();
    let mut expected = vec![first_id, first_id, second_id];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    drop(links);
    assert!(query().is_empty(), "dropping the links detached them");
}

#[test]
fn tracepoint_twice_names_program_and_event() {
    let mut first = open_for_this_thread(TRACEPOINT);
    let mut second = open_for_this_thread(TRACEPOINT);
    for bpf in [&mut first, &mut second] {
        let p: &mut TracePoint = program(bpf, "count_getpid");
        p.load().unwrap();
        p.attach_default().unwrap();
    }
    let err = program::<TracePoint>(&mut first, "count_getpid")
        .attach("syscalls", "sys_enter_getpid")
        .unwrap_err();
    assert_already(
        &err,
        "count_getpid",
        "tracepoint `syscalls/sys_enter_getpid`",
    );
    assert!(err.to_string().contains("already attached"), "{err}");
    assert_eq!(
        err.errno(),
        Some(libc::EEXIST),
        "the kernel's errno stays reachable"
    );
    let source = std::error::Error::source(&err).expect("a source");
    assert!(
        !err.to_string().contains(&source.to_string()),
        "Display repeats source"
    );
    getpid_n(3);
    assert_eq!(
        counter(&first, "hits"),
        3,
        "the first attachment still runs once"
    );
    assert_eq!(
        counter(&second, "hits"),
        3,
        "another program attaches alongside"
    );
}

#[test]
fn perf_event_twice_opens_two_events() {
    let mut bpf = open_for_this_thread(PERF);
    let p: &mut PerfEvent = program(&mut bpf, "count_samples");
    p.load().unwrap();
    for _ in 0..2 {
        p.attach(
            PerfTypeId::Software,
            bpf_sys::generated::perf_sw_ids::PERF_COUNT_SW_TASK_CLOCK as u64,
            PerfEventScope::CallingProcessAnyCpu,
            SamplePolicy::Period(100_000),
            false,
        )
        .unwrap();
    }
    assert_eq!(p.data().link_count(), 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while counter(&bpf, "hits") < 2 && std::time::Instant::now() < deadline {
        std::hint::black_box((0..10_000u64).sum::<u64>());
    }
    assert!(counter(&bpf, "hits") >= 2, "both events sample");
}

#[test]
fn raw_tracepoint_twice_runs_twice_or_is_refused_by_name() {
    let mut bpf = open_for_this_thread(RAW_TP);
    let p: &mut RawTracePoint = program(&mut bpf, "count_sys_enter");
    p.load().unwrap();
    p.attach("sys_enter").unwrap();
    match p.attach("sys_enter") {
        Ok(_) => {
            let before = counter(&bpf, "hits");
            getpid_n(1);
            // The counter's own lookup is a syscall too: at least two entries per attachment.
            assert!(counter(&bpf, "hits") - before >= 2, "both attachments run");
        }
        Err(err) => {
            assert_already(&err, "count_sys_enter", "raw tracepoint `sys_enter`");
            assert_eq!(err.errno(), Some(libc::EEXIST));
        }
    }
}

#[test]
fn xdp_second_attach_is_refused_and_replace_is_explicit() {
    let _netns = TestNetns::enter();
    let lo = if_nametoindex("lo").unwrap();
    let (mut first, first_id) = loaded::<Xdp>("count_xdp", open_net);
    let (mut second, second_id) = loaded::<Xdp>("count_xdp", open_net);
    let link = program::<Xdp>(&mut first, "count_xdp")
        .attach_with_method("lo", XdpFlags::SKB_MODE, AttachMethod::Link)
        .unwrap();
    for method in [AttachMethod::Link, AttachMethod::Legacy, AttachMethod::Auto] {
        let err = program::<Xdp>(&mut second, "count_xdp")
            .attach_with_method("lo", XdpFlags::SKB_MODE, method)
            .unwrap_err();
        assert_busy(&err, "count_xdp", Some(first_id));
        assert_eq!(err.errno(), Some(libc::EBUSY), "{method:?}");
    }
    program::<Xdp>(&mut first, "count_xdp")
        .detach(link)
        .unwrap();

    let netlink = |bpf: &mut Bpf, flags| {
        program::<Xdp>(bpf, "count_xdp").attach_with_method("lo", flags, AttachMethod::Legacy)
    };
    let first_link = netlink(&mut first, XdpFlags::SKB_MODE).unwrap();
    let err = netlink(&mut second, XdpFlags::SKB_MODE).unwrap_err();
    assert_busy(&err, "count_xdp", Some(first_id));
    assert_eq!(xdp_query(lo).unwrap().skb_prog_id, first_id);

    let second_link = netlink(&mut second, XdpFlags::SKB_MODE | XdpFlags::REPLACE).unwrap();
    assert_eq!(
        xdp_query(lo).unwrap().skb_prog_id,
        second_id,
        "replaced when asked"
    );
    let err = program::<Xdp>(&mut first, "count_xdp")
        .detach(first_link)
        .unwrap_err();
    assert!(err.errno().is_some(), "{err}");
    assert_eq!(
        xdp_query(lo).unwrap().skb_prog_id,
        second_id,
        "the replaced attachment's detach leaves the new program"
    );
    program::<Xdp>(&mut second, "count_xdp")
        .detach(second_link)
        .unwrap();
    assert_eq!(xdp_query(lo).unwrap().skb_prog_id, 0);
}

#[test]
fn tc_classifiers_stack_and_tcx_refuses_the_same_program_twice() {
    let _netns = TestNetns::enter();
    let lo = if_nametoindex("lo").unwrap();
    let mut bpf = open_net();
    let p: &mut SchedClassifier = program(&mut bpf, "count_tc");
    p.load().unwrap();
    let netlink = TcAttachOptions::Netlink {
        priority: 0,
        handle: 0,
    };
    let a = p
        .attach_with_options("lo", TcAttachType::Ingress, netlink)
        .unwrap();
    let b = p
        .attach_with_options("lo", TcAttachType::Ingress, netlink)
        .unwrap();
    let filters = || tc_filter_dump(lo, TcAttachPoint::Ingress).unwrap().len();
    assert_eq!(filters(), 2, "two filters");
    let listener = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), 1);
    receive_one(&[&listener]);
    // A direct-action filter's verdict ends the chain: the first filter decides.
    assert_eq!(value_at(&bpf, "hits", 2), 1, "the filters run");
    let p: &mut SchedClassifier = program(&mut bpf, "count_tc");
    p.detach(a).unwrap();
    assert_eq!(filters(), 1, "each link deletes its own filter");
    p.detach(b).unwrap();
    assert_eq!(filters(), 0);

    let explicit = TcAttachOptions::Netlink {
        priority: 7,
        handle: 3,
    };
    p.attach_with_options("lo", TcAttachType::Ingress, explicit)
        .unwrap();
    let err = p
        .attach_with_options("lo", TcAttachType::Ingress, explicit)
        .unwrap_err();
    assert_busy(&err, "count_tc", None);
    assert_eq!(err.errno(), Some(libc::EEXIST));

    let tcx = p.attach_with_options("lo", TcAttachType::Ingress, TcAttachOptions::Tcx);
    let p: &mut SchedClassifier = program(&mut bpf, "count_tcx");
    p.load().unwrap();
    match p.attach_with_options("lo", TcAttachType::Ingress, TcAttachOptions::Tcx) {
        Ok(_) => {
            let err = p
                .attach_with_options("lo", TcAttachType::Ingress, TcAttachOptions::Tcx)
                .unwrap_err();
            assert_already(&err, "count_tcx", "TCX hook");
            assert!(tcx.is_ok(), "a second program joins the TCX hook");
        }
        Err(e) => skip(
            "attach_twice::tc_classifiers_stack_and_tcx_refuses_the_same_program_twice",
            format!("TCX part: no TCX links here: {e}"),
        ),
    }
}

#[test]
fn flow_dissector_one_per_namespace() {
    let netns = TestNetns::enter();
    let (mut first, first_id) = loaded::<FlowDissector>("count_flow", open_net);
    let (mut second, second_id) = loaded::<FlowDissector>("count_flow", open_net);
    let link = program::<FlowDissector>(&mut first, "count_flow")
        .attach_with_method(&netns.file, AttachMethod::Link)
        .unwrap();
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let err = program::<FlowDissector>(&mut second, "count_flow")
            .attach_with_method(&netns.file, method)
            .unwrap_err();
        assert_busy(&err, "count_flow", None);
    }
    program::<FlowDissector>(&mut first, "count_flow")
        .detach(link)
        .unwrap();
    net_support::eventually("the flow dissector link is gone", || {
        prog_query(
            AttachTarget::Fd(netns.file.as_fd()),
            bpf_attach_type::BPF_FLOW_DISSECTOR,
            0,
        )
        .unwrap()
        .prog_ids
        .is_empty()
    });

    program::<FlowDissector>(&mut first, "count_flow")
        .attach_with_method(&netns.file, AttachMethod::Legacy)
        .unwrap();
    let err = program::<FlowDissector>(&mut second, "count_flow")
        .attach_with_method(&netns.file, AttachMethod::Legacy)
        .unwrap_err();
    assert_busy(&err, "count_flow", Some(first_id));
    let err = program::<FlowDissector>(&mut first, "count_flow")
        .attach_with_method(&netns.file, AttachMethod::Legacy)
        .unwrap_err();
    assert_already(&err, "count_flow", "flow dissector");
    let ids = prog_query(
        AttachTarget::Fd(netns.file.as_fd()),
        bpf_attach_type::BPF_FLOW_DISSECTOR,
        0,
    )
    .unwrap()
    .prog_ids;
    assert_eq!(ids, [first_id], "not replaced by {second_id}");
}

#[test]
fn sk_lookup_links_stack() {
    let netns = TestNetns::enter();
    let receiver = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    let mut bpf = open_net();
    let p: &mut SkLookup = program(&mut bpf, "count_lookup");
    p.load().unwrap();
    p.attach(&netns.file).unwrap();
    p.attach(&netns.file).unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), 1);
    receive_one(&[&receiver]);
    assert_eq!(value_at(&bpf, "hits", 7), 2, "both links run");
}

#[test]
fn sockmap_hook_holds_one_program() {
    // The kernel replaces a sockmap's program without a word; only a sockmap it can query
    // (sock_map_bpf_prog_query, Linux 5.19) lets the library see the hook is taken.
    if !integration_tests::kernel_btf_has_name("sock_map_bpf_prog_query") {
        skip(
            "attach_twice::sockmap_hook_holds_one_program",
            "the kernel cannot query a sockmap's programs (no sock_map_bpf_prog_query in its BTF)",
        );
        return;
    }
    let map: SockMap<MapData> = SockMap::create(2, 0).unwrap();
    let open = || BpfLoader::new().load(SOCKMAP).unwrap();
    let (mut first, first_id) = loaded::<SkMsg>("count_msg", open);
    let (mut second, _) = loaded::<SkMsg>("count_msg", open);
    program::<SkMsg>(&mut first, "count_msg")
        .attach(map.fd())
        .unwrap();
    let err = program::<SkMsg>(&mut first, "count_msg")
        .attach(map.fd())
        .unwrap_err();
    assert_already(&err, "count_msg", "sk_msg");
    let err = program::<SkMsg>(&mut second, "count_msg")
        .attach(map.fd())
        .unwrap_err();
    assert_busy(&err, "count_msg", Some(first_id));
}

#[test]
fn netfilter_one_program_per_hook_and_priority() {
    let test = "attach_twice::netfilter_one_program_per_hook_and_priority";
    let _netns = TestNetns::enter();
    let mut bpf = open_net();
    let p: &mut Netfilter = program(&mut bpf, "count_netfilter");
    if let Err(e) = p.load() {
        skip(test, format!("no netfilter programs here: {e}"));
        return;
    }
    let at = |priority| NetfilterAttachOptions {
        family: NetfilterFamily::Ipv4,
        hook: NetfilterHook::LocalIn,
        priority,
        defrag: false,
    };
    p.attach(at(-128)).unwrap();
    let err = p.attach(at(-128)).unwrap_err();
    assert_busy(&err, "count_netfilter", None);
    assert_eq!(err.errno(), Some(libc::EBUSY));
    p.attach(at(-127)).unwrap();
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
fn reuseport_second_attach_replaces_the_groups_program() {
    let _netns = TestNetns::enter();
    let addr = SocketAddrV4::new([127, 0, 0, 1].into(), PORT);
    let group = [reuseport_socket(addr), reuseport_socket(addr)];
    let drain = || receive_one(&[&group[0], &group[1]]);
    let (mut first, _) = loaded::<SkReuseport>("count_reuseport", open_net);
    let (mut second, _) = loaded::<SkReuseport>("count_reuseport", open_net);
    let a = program::<SkReuseport>(&mut first, "count_reuseport")
        .attach(&group[0])
        .unwrap();
    let b = program::<SkReuseport>(&mut second, "count_reuseport")
        .attach(&group[1])
        .unwrap();
    send_udp(&addr.to_string(), 1);
    drain();
    assert_eq!(value_at(&first, "hits", 8), 0, "replaced");
    assert_eq!(
        value_at(&second, "hits", 8),
        1,
        "the group runs the second program"
    );

    // Detaching acts on the group: the first link removes the second's program.
    program::<SkReuseport>(&mut first, "count_reuseport")
        .detach(a)
        .unwrap();
    send_udp(&addr.to_string(), 1);
    drain();
    assert_eq!(value_at(&second, "hits", 8), 1, "the group runs no program");
    let err = program::<SkReuseport>(&mut second, "count_reuseport")
        .detach(b)
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOENT), "{err}");
}
