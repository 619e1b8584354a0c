//! tc classifiers: TCX links and netlink cls_bpf filters in a private network namespace;
//! test_run; bad interface names.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use bpf_programs::programs::{
    ProgramError, SchedClassifier, TcAttachOptions, TcAttachType, TcError, qdisc_add_clsact,
};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::tc::{TcAttachPoint, tc_filter_dump};
use integration_tests::{kernel_enum_has, value_at};
use net_support::{TestNetns, once_at_least, send_udp};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");
const PORT: u16 = 40002;

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(OBJECT)
        .expect("object opens")
}

fn classifier<'a>(bpf: &'a mut Bpf, name: &str) -> &'a mut SchedClassifier {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

#[test]
fn sched_cls_tcx_link_fires_and_stops_after_detach() {
    if !kernel_enum_has("bpf_attach_type", "BPF_TCX_INGRESS") {
        integration_tests::skip(
            "net_tc::sched_cls_tcx_link_fires_and_stops_after_detach",
            "no TCX links: the kernel's enum bpf_attach_type has no BPF_TCX_INGRESS",
        );
        return;
    }
    let _netns = TestNetns::enter();
    let mut bpf = open();
    let program = classifier(&mut bpf, "count_tcx");
    program.load().unwrap();
    let link = program
        .attach_with_options("lo", TcAttachType::Ingress, TcAttachOptions::Tcx)
        .unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), 20);
    let fired = once_at_least(20, || value_at(&bpf, "hits", 3));
    assert!(fired >= 20, "tcx counted {fired} of 20 datagrams");
    classifier(&mut bpf, "count_tcx").detach(link).unwrap();
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert_eq!(value_at(&bpf, "hits", 3), fired, "fired after detach");
}

#[test]
fn sched_cls_netlink_filter_on_veth_fires_and_drop_deletes_it() {
    let netns = TestNetns::enter();
    netns.add_veth_pair();
    let mut bpf = open();
    let program = classifier(&mut bpf, "count_tc");
    program.load().unwrap();
    qdisc_add_clsact("vb").unwrap();
    qdisc_add_clsact("vb").expect("an existing clsact qdisc is fine");
    program
        .attach_with_options(
            "vb",
            TcAttachType::Ingress,
            TcAttachOptions::Netlink {
                priority: 7,
                handle: 3,
            },
        )
        .unwrap();
    let vb = if_nametoindex("vb").unwrap();
    let filters = tc_filter_dump(vb, TcAttachPoint::Ingress).unwrap();
    assert!(
        filters
            .iter()
            .any(|f| f.priority == 7 && f.handle == 3 && f.direct_action),
        "{filters:?}"
    );
    send_udp(&format!("10.9.0.3:{PORT}"), 20);
    let fired = once_at_least(20, || value_at(&bpf, "hits", 2));
    assert!(fired >= 20, "cls_bpf counted {fired} of 20 datagrams");

    drop(bpf.take_program("count_tc"));
    assert!(
        tc_filter_dump(vb, TcAttachPoint::Ingress)
            .unwrap()
            .is_empty()
    );
    send_udp(&format!("10.9.0.3:{PORT}"), 10);
    assert_eq!(value_at(&bpf, "hits", 2), fired, "fired after drop");
}

#[test]
fn sched_cls_auto_egress_and_take_link() {
    let _netns = TestNetns::enter();
    let mut bpf = open();
    let program = classifier(&mut bpf, "count_tc");
    program.load().unwrap();
    let id = program.attach("lo", TcAttachType::Egress).unwrap();
    let link = program.take_link(id).unwrap();
    drop(bpf.take_program("count_tc"));
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert!(
        once_at_least(10, || value_at(&bpf, "hits", 2)) >= 10,
        "taken link stopped firing"
    );
    drop(link);
    let before = value_at(&bpf, "hits", 2);
    send_udp(&format!("127.0.0.1:{PORT}"), 10);
    assert_eq!(value_at(&bpf, "hits", 2), before);
}

#[test]
fn sched_cls_bad_interface_and_custom_parent_with_tcx() {
    let mut bpf = open();
    let program = classifier(&mut bpf, "count_tc");
    program.load().unwrap();
    let err = program
        .attach("nosuchif1", TcAttachType::Ingress)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::Tc(TcError::InterfaceNotFound { name, .. }) if name == "nosuchif1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("nosuchif1"));
    let err = qdisc_add_clsact("nosuchif2").unwrap_err();
    assert!(err.to_string().contains("nosuchif2"), "{err}");
    let err = program
        .attach_with_options("lo", TcAttachType::Custom(0x10000), TcAttachOptions::Tcx)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProgramError::Tc(TcError::TcxNeedsIngressOrEgress { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn sched_cls_test_run() {
    let mut bpf = open();
    let program = classifier(&mut bpf, "count_tc");
    program.load().unwrap();
    let mut packet = vec![0u8; 64];
    packet[12] = 0x08;
    packet[14] = 0x45;
    packet[23] = 17;
    packet[36..38].copy_from_slice(&PORT.to_be_bytes());
    let out = program
        .test_run(TestRunOptions::new().data(&packet))
        .unwrap();
    assert_eq!(out.return_value, 0, "TC_ACT_OK");
    assert_eq!(value_at(&bpf, "hits", 2), 1);
}

#[test]
fn sched_cls_and_other_packet_sections_get_their_types() {
    let bpf = open();
    let expected = [
        ("count_xdp", "xdp"),
        ("count_xdp_frags", "xdp"),
        ("count_tc", "sched_cls"),
        ("count_tcx", "sched_cls"),
        ("count_socket", "socket_filter"),
        ("count_netfilter", "netfilter"),
        ("count_flow", "flow_dissector"),
        ("count_lookup", "sk_lookup"),
        ("count_reuseport", "sk_reuseport"),
    ];
    for (name, type_name) in expected {
        assert_eq!(bpf.program(name).unwrap().type_name(), type_name, "{name}");
    }
}

#[test]
fn sched_cls_loads_through_the_generic_program() {
    let mut bpf = open();
    let program = bpf.program_mut("count_tcx").unwrap();
    program.load().unwrap();
    assert_eq!(
        program.info().unwrap().program_type(),
        bpf_sys::generated::bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS
    );
}
