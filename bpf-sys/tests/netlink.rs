//! tc and XDP through rtnetlink, on a veth pair created for each test.

mod common;

use std::os::fd::AsFd;

use bpf_sys::generated::{XDP_FLAGS_SKB_MODE, bpf_prog_type};
use bpf_sys::info::prog_info;
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::tc::{
    TcAttachPoint, TcFilterAttr, qdisc_add_clsact, qdisc_del_clsact, tc_filter_add, tc_filter_del,
    tc_filter_dump,
};
use bpf_sys::netlink::xdp::{xdp_attach, xdp_query};
use bpf_sys::{Command, NetlinkRequest};
use common::{Veth, counter_map, counting_prog, read_counter, send_frame};

#[test]
fn tc_clsact_filter_add_dump_fire_delete() {
    let veth = Veth::new();
    let ifindex = if_nametoindex(&veth.name).unwrap();
    let peer = if_nametoindex(&veth.peer).unwrap();
    let counter = counter_map("sys_tc_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS,
        0,
        "sys_tc",
        &counter,
        0,
    );
    let prog_id = prog_info(prog.as_fd()).unwrap().id();

    qdisc_add_clsact(ifindex).unwrap();
    let again = qdisc_add_clsact(ifindex).unwrap_err();
    assert_eq!(again.command, Command::Netlink(NetlinkRequest::NewQdisc));
    assert_eq!(again.errno(), Some(libc::EEXIST));

    let id = tc_filter_add(&TcFilterAttr {
        ifindex,
        attach_point: TcAttachPoint::Ingress,
        prog_fd: prog.as_fd(),
        name: "sys_tc_filter",
        priority: 0,
        handle: 0,
        replace: false,
    })
    .unwrap();
    assert_ne!(id.priority, 0);
    assert_ne!(id.handle, 0);

    let filters = tc_filter_dump(ifindex, TcAttachPoint::Ingress).unwrap();
    let ours = filters
        .iter()
        .find(|f| f.handle == id.handle && f.priority == id.priority)
        .unwrap_or_else(|| panic!("{id:?} not in {filters:?}"));
    assert_eq!(ours.name, "sys_tc_filter");
    assert_eq!(ours.prog_id, prog_id);
    assert!(ours.direct_action);
    assert!(
        tc_filter_dump(ifindex, TcAttachPoint::Egress)
            .unwrap()
            .is_empty()
    );

    send_frame(peer);
    assert!(read_counter(&counter) >= 1, "tc program did not run");

    tc_filter_del(ifindex, TcAttachPoint::Ingress, id.priority, id.handle).unwrap();
    assert!(
        tc_filter_dump(ifindex, TcAttachPoint::Ingress)
            .unwrap()
            .is_empty()
    );
    qdisc_del_clsact(ifindex).unwrap();
}

#[test]
fn xdp_generic_attach_query_fire_detach() {
    let veth = Veth::new();
    let ifindex = if_nametoindex(&veth.name).unwrap();
    let peer = if_nametoindex(&veth.peer).unwrap();
    let counter = counter_map("sys_xdp_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_XDP,
        0,
        "sys_xdp",
        &counter,
        2, // XDP_PASS
    );
    let prog_id = prog_info(prog.as_fd()).unwrap().id();

    assert_eq!(xdp_query(ifindex).unwrap().prog_id, 0);
    xdp_attach(ifindex, Some(prog.as_fd()), XDP_FLAGS_SKB_MODE, None).unwrap();
    let query = xdp_query(ifindex).unwrap();
    assert_eq!(query.prog_id, prog_id);
    assert_eq!(query.skb_prog_id, prog_id);
    assert_eq!(query.attach_mode, 2); // XDP_ATTACHED_SKB

    send_frame(peer);
    assert!(read_counter(&counter) >= 1, "xdp program did not run");

    // Replacing with a wrong expected program fails with the kernel's explanation.
    let other = counting_prog(bpf_prog_type::BPF_PROG_TYPE_XDP, 0, "sys_xdp2", &counter, 2);
    let err = xdp_attach(
        ifindex,
        Some(prog.as_fd()),
        XDP_FLAGS_SKB_MODE,
        Some(other.as_fd()),
    )
    .unwrap_err();
    assert_eq!(err.command, Command::Netlink(NetlinkRequest::SetLink));
    assert_eq!(err.errno(), Some(libc::EEXIST));
    assert!(
        err.to_string().starts_with("netlink(RTM_SETLINK) failed: "),
        "{err}"
    );
    let ack = err
        .io_error
        .get_ref()
        .and_then(|e| e.downcast_ref::<bpf_sys::NetlinkAck>())
        .expect("extended ack message");
    assert!(!ack.message.is_empty());

    xdp_attach(ifindex, None, XDP_FLAGS_SKB_MODE, None).unwrap();
    assert_eq!(xdp_query(ifindex).unwrap().prog_id, 0);
}

#[test]
fn unknown_interface_is_enodev() {
    let err = if_nametoindex("no-such-if0").unwrap_err();
    assert_eq!(err.command, Command::IfNameToIndex);
    assert_eq!(err.errno(), Some(libc::ENODEV));
    let err = xdp_query(0x7fff_fff0).unwrap_err();
    assert_eq!(err.command, Command::Netlink(NetlinkRequest::GetLink));
    assert_eq!(err.errno(), Some(libc::ENODEV));
}
