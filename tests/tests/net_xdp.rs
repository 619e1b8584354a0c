//! XDP: bpf_link and netlink attachments in a private network namespace, on lo (generic) and
//! on a veth (native); link replacement; test_run; bad interface names.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use bpf_programs::programs::{AttachMethod, ProgramError, Xdp, XdpError, XdpFlags};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::xdp::xdp_query;
use integration_tests::{kernel_enum_has, value_at};
use net_support::{TestNetns, once_at_least, send_udp};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");
const PORT: u16 = 40001;

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(OBJECT)
        .expect("object opens")
}

fn xdp<'a>(bpf: &'a mut Bpf, name: &str) -> &'a mut Xdp {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

#[test]
fn xdp_link_on_lo_fires_and_stops_after_detach() {
    let _netns = TestNetns::enter();
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    let link = program
        .attach_with_method("lo", XdpFlags::SKB_MODE, AttachMethod::Link)
        .unwrap();
    let lo = if_nametoindex("lo").unwrap();
    assert_ne!(
        xdp_query(lo).unwrap().skb_prog_id,
        0,
        "lo runs an XDP program"
    );
    send_udp(&format!("127.0.0.1:{PORT}"), 20);
    let fired = once_at_least(20, || value_at(&bpf, "hits", 0));
    assert!(fired >= 20, "XDP counted {fired} of 20 datagrams");

    xdp(&mut bpf, "count_xdp").detach(link).unwrap();
    assert_eq!(xdp_query(lo).unwrap().skb_prog_id, 0, "still attached");
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert_eq!(value_at(&bpf, "hits", 0), fired, "fired after detach");
}

#[test]
fn xdp_netlink_native_on_veth_fires_and_drop_detaches() {
    let netns = TestNetns::enter();
    netns.add_veth_pair();
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    program
        .attach_with_method("vb", XdpFlags::DRV_MODE, AttachMethod::Legacy)
        .unwrap();
    let vb = if_nametoindex("vb").unwrap();
    let query = xdp_query(vb).unwrap();
    assert_ne!(
        query.drv_prog_id, 0,
        "vb runs a native XDP program: {query:?}"
    );
    send_udp(&format!("10.9.0.3:{PORT}"), 20);
    let fired = once_at_least(20, || value_at(&bpf, "hits", 0));
    assert!(fired >= 20, "XDP on vb counted {fired} of 20 datagrams");

    drop(bpf.take_program("count_xdp"));
    assert_eq!(xdp_query(vb).unwrap().drv_prog_id, 0, "dropping detached");
    send_udp(&format!("10.9.0.3:{PORT}"), 10);
    assert_eq!(value_at(&bpf, "hits", 0), fired, "fired after drop");
}

#[test]
fn xdp_auto_attach_and_taken_link_outlives_program() {
    let _netns = TestNetns::enter();
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    let id = program.attach("lo", XdpFlags::SKB_MODE).unwrap();
    let link = program.take_link(id).unwrap();
    drop(bpf.take_program("count_xdp"));
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert!(
        once_at_least(10, || value_at(&bpf, "hits", 0)) >= 10,
        "taken link stopped firing"
    );
    drop(link);
    let before = value_at(&bpf, "hits", 0);
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert_eq!(
        value_at(&bpf, "hits", 0),
        before,
        "fired after the link dropped"
    );
}

#[test]
fn xdp_attach_to_link_swaps_program() {
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let _netns = TestNetns::enter();
        let mut bpf = open();
        xdp(&mut bpf, "count_xdp").load().unwrap();
        xdp(&mut bpf, "count_xdp_other").load().unwrap();
        let first = xdp(&mut bpf, "count_xdp");
        let id = first
            .attach_with_method("lo", XdpFlags::SKB_MODE, method)
            .unwrap();
        let link = first.take_link(id).unwrap();
        let second = xdp(&mut bpf, "count_xdp_other");
        let new_id = second.attach_to_link(link).unwrap();
        let new_prog = second.info().unwrap().id();
        let lo = if_nametoindex("lo").unwrap();
        assert_eq!(xdp_query(lo).unwrap().skb_prog_id, new_prog, "{method:?}");
        send_udp(&format!("127.0.0.1:{PORT}"), 10);
        assert!(
            once_at_least(10, || value_at(&bpf, "hits", 10)) >= 10,
            "{method:?}: new program silent"
        );
        assert_eq!(value_at(&bpf, "hits", 0), 0, "{method:?}: old program ran");
        xdp(&mut bpf, "count_xdp_other").detach(new_id).unwrap();
        assert_eq!(xdp_query(lo).unwrap().skb_prog_id, 0, "{method:?}");
        let fired = value_at(&bpf, "hits", 10);
        send_udp(&format!("127.0.0.1:{PORT}"), 10);
        assert_eq!(
            value_at(&bpf, "hits", 10),
            fired,
            "{method:?}: fired after detach"
        );
        assert_eq!(value_at(&bpf, "hits", 0), 0, "{method:?}: old program ran");
    }
}

#[test]
fn xdp_bad_interface_is_typed_error() {
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    let err = program.attach("nosuchif0", XdpFlags::SKB_MODE).unwrap_err();
    assert!(
        matches!(&err, ProgramError::Xdp(XdpError::InterfaceNotFound { name, .. }) if name == "nosuchif0"),
        "{err:?}"
    );
    assert!(err.to_string().contains("nosuchif0"), "{err}");
}

#[test]
fn xdp_netlink_only_flags_refuse_link() {
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    let err = program
        .attach_with_method(
            "lo",
            XdpFlags::SKB_MODE | XdpFlags::UPDATE_IF_NOEXIST,
            AttachMethod::Link,
        )
        .unwrap_err();
    assert!(
        matches!(err, ProgramError::Xdp(XdpError::FlagsNeedNetlink { .. })),
        "{err:?}"
    );
}

#[test]
fn xdp_test_run_and_frags_load() {
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    let mut packet = vec![0u8; 64];
    packet[12] = 0x08; // IPv4
    packet[14] = 0x45;
    packet[23] = 17; // UDP
    packet[36..38].copy_from_slice(&PORT.to_be_bytes());
    let out = program
        .test_run(TestRunOptions::new().data(&packet).repeat(3))
        .unwrap();
    assert_eq!(out.return_value, 2, "XDP_PASS");
    assert_eq!(value_at(&bpf, "hits", 0), 3);

    let frags = xdp(&mut bpf, "count_xdp_frags");
    // Multi-buffer XDP came with bpf_xdp_get_buff_len (Linux 5.18); before, the flag is refused.
    if !kernel_enum_has("bpf_func_id", "BPF_FUNC_xdp_get_buff_len") {
        let err = frags.load().unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        return;
    }
    frags.load().unwrap();
    assert_eq!(
        frags.info().unwrap().program_type(),
        bpf_sys::generated::bpf_prog_type::BPF_PROG_TYPE_XDP
    );
}

#[test]
fn xdp_netlink_detach_from_another_namespace_reaches_the_original() {
    let _first = TestNetns::enter();
    let lo = if_nametoindex("lo").unwrap();
    let mut bpf = open();
    let program = xdp(&mut bpf, "count_xdp");
    program.load().unwrap();
    let id = program
        .attach_with_method("lo", XdpFlags::SKB_MODE, AttachMethod::Legacy)
        .unwrap();
    assert_ne!(xdp_query(lo).unwrap().skb_prog_id, 0);
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    let fired = once_at_least(10, || value_at(&bpf, "hits", 0));
    assert!(fired >= 10, "XDP counted {fired} of 10 datagrams");
    let second = TestNetns::enter();
    xdp(&mut bpf, "count_xdp").detach(id).unwrap();
    assert_eq!(
        xdp_query(if_nametoindex("lo").unwrap())
            .unwrap()
            .skb_prog_id,
        0,
        "the second namespace never had a program"
    );
    drop(second);
    assert_eq!(
        xdp_query(lo).unwrap().skb_prog_id,
        0,
        "the detach reached the namespace the program was attached in"
    );
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert_eq!(value_at(&bpf, "hits", 0), fired, "fired after detach");
}
