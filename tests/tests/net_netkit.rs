//! netkit: programs on both sides of a netkit pair created over rtnetlink in a private network
//! namespace (iproute2 before 6.7 cannot create one), fired by UDP the pair sends; ordering,
//! revisions and wrong interfaces; the "not supported" error on kernels without netkit.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::maps::GlobalData;
use bpf_programs::programs::netkit::{LinkAnchor, LinkOrder, NetkitAttachOptions, query};
use bpf_programs::programs::{Netkit, NetkitAttachType, NetkitError, ProgramError};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::generated::bpf_attach_type;
use bpf_sys::info::LinkDetails;
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::link::{NetkitMode, link_del, netkit_add};
use net_support::{TestNetns, send_udp};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_netkit.bpf.o");
const PORT: u16 = 40003;

fn open() -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(OBJECT)
        .expect("object opens")
}

fn netkit<'a>(bpf: &'a mut Bpf, name: &str) -> &'a mut Netkit {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

fn hits(bpf: &Bpf, name: &str) -> u64 {
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    bss.get::<u64>(name).unwrap()
}

/// Adds netkit pair `nka` (primary, 10.9.0.1/24) ↔ `nkb` (peer, 10.8.0.1/24), both up, in the
/// calling thread's namespace: UDP to 10.9.0.3 leaves `nka`, UDP to 10.8.0.3 leaves `nkb`.
/// `None` (after printing the SKIPPED line) when the kernel is built without netkit devices.
fn add_pair(netns: &TestNetns, test: &str) -> Option<()> {
    if let Some(reason) = integration_tests::config_off("NETKIT") {
        integration_tests::skip(&format!("net_netkit::{test}"), reason);
        return None;
    }
    netkit_add("nka", "nkb", NetkitMode::L3).expect("CONFIG_NETKIT is set: a netkit pair");
    netns.ip(&["addr", "add", "10.9.0.1/24", "dev", "nka"]);
    netns.ip(&["addr", "add", "10.8.0.1/24", "dev", "nkb"]);
    netns.ip(&["link", "set", "nka", "up"]);
    netns.ip(&["link", "set", "nkb", "up"]);
    netns.wait_until_up("nka");
    netns.wait_until_up("nkb");
    Some(())
}

#[test]
fn netkit_primary_link_fires_and_stops_after_detach() {
    let netns = TestNetns::enter();
    let Some(()) = add_pair(&netns, "netkit_primary_link_fires_and_stops_after_detach") else {
        return;
    };
    let mut bpf = open();
    let program = netkit(&mut bpf, "count_primary");
    program.load().unwrap();
    assert_eq!(
        program.default_attach_type(),
        Some(NetkitAttachType::Primary)
    );
    let link = program.attach_default("nka").unwrap();
    let nka = if_nametoindex("nka").unwrap();
    let info = program.take_link(link).unwrap();
    let details = info.inner().info().unwrap().details();
    assert!(
        matches!(
            details,
            LinkDetails::Netkit { ifindex, attach_type }
                if ifindex == nka && attach_type == bpf_attach_type::BPF_NETKIT_PRIMARY
        ),
        "{details:?}"
    );
    send_udp(&format!("10.9.0.3:{PORT}"), 20);
    let fired = hits(&bpf, "primary_hits");
    assert!(
        fired >= 20,
        "netkit primary counted {fired} of 20 datagrams"
    );
    send_udp(&format!("10.8.0.3:{PORT}"), 5);
    assert_eq!(
        hits(&bpf, "primary_hits"),
        fired,
        "the peer's packets fired it"
    );
    drop(info);
    send_udp(&format!("10.9.0.3:{PORT}"), 10);
    assert_eq!(
        hits(&bpf, "primary_hits"),
        fired,
        "fired after its link dropped"
    );

    let program = netkit(&mut bpf, "count_primary");
    let link = program.attach("nka", NetkitAttachType::Primary).unwrap();
    send_udp(&format!("10.9.0.3:{PORT}"), 10);
    let fired_again = hits(&bpf, "primary_hits");
    assert!(
        fired_again >= fired + 10,
        "reattached: {fired} → {fired_again}"
    );
    netkit(&mut bpf, "count_primary").detach(link).unwrap();
    send_udp(&format!("10.9.0.3:{PORT}"), 10);
    assert_eq!(
        hits(&bpf, "primary_hits"),
        fired_again,
        "fired after detach"
    );
    assert_eq!(hits(&bpf, "peer_hits"), 0);
}

#[test]
fn netkit_peer_link_fires_on_what_the_peer_sends() {
    let netns = TestNetns::enter();
    let Some(()) = add_pair(&netns, "netkit_peer_link_fires_on_what_the_peer_sends") else {
        return;
    };
    let mut bpf = open();
    let program = netkit(&mut bpf, "count_peer");
    program.load().unwrap();
    let link = program.attach_default("nka").unwrap();
    let attached = query("nka", NetkitAttachType::Peer).unwrap();
    assert_eq!(attached.prog_ids, [program.info().unwrap().id()]);
    send_udp(&format!("10.8.0.3:{PORT}"), 20);
    let fired = hits(&bpf, "peer_hits");
    assert!(fired >= 20, "netkit peer counted {fired} of 20 datagrams");
    send_udp(&format!("10.9.0.3:{PORT}"), 5);
    assert_eq!(
        hits(&bpf, "peer_hits"),
        fired,
        "the primary's packets fired it"
    );
    netkit(&mut bpf, "count_peer").detach(link).unwrap();
    send_udp(&format!("10.8.0.3:{PORT}"), 10);
    assert_eq!(hits(&bpf, "peer_hits"), fired, "fired after detach");
    assert!(
        query("nka", NetkitAttachType::Peer)
            .unwrap()
            .prog_ids
            .is_empty()
    );
}

#[test]
fn netkit_order_revision_and_wrong_interfaces() {
    let netns = TestNetns::enter();
    let Some(()) = add_pair(&netns, "netkit_order_revision_and_wrong_interfaces") else {
        return;
    };
    let mut bpf = open();
    netkit(&mut bpf, "count_primary").load().unwrap();
    netkit(&mut bpf, "count_peer").load().unwrap();
    let primary_id = netkit(&mut bpf, "count_primary").info().unwrap().id();
    let peer_id = netkit(&mut bpf, "count_peer").info().unwrap().id();

    let before = query("nka", NetkitAttachType::Primary).unwrap();
    netkit(&mut bpf, "count_primary")
        .attach("nka", NetkitAttachType::Primary)
        .unwrap();
    let after = query("nka", NetkitAttachType::Primary).unwrap();
    assert!(after.revision > before.revision, "{before:?} → {after:?}");

    // A `netkit/peer` program attaches to the primary side too: refused against the revision
    // before the first attach, then placed before the first program.
    let err = netkit(&mut bpf, "count_peer")
        .attach_with_options(
            "nka",
            NetkitAttachType::Primary,
            NetkitAttachOptions {
                order: LinkOrder::First,
                expected_revision: before.revision,
            },
        )
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::Netkit(NetkitError::StaleRevision { name, .. }) if name == "nka"),
        "{err:?}"
    );
    netkit(&mut bpf, "count_peer")
        .attach_with_options(
            "nka",
            NetkitAttachType::Primary,
            NetkitAttachOptions {
                order: LinkOrder::Before(LinkAnchor::ProgramId(primary_id)),
                expected_revision: after.revision,
            },
        )
        .unwrap();
    let order = query("nka", NetkitAttachType::Primary).unwrap();
    assert_eq!(order.prog_ids, [peer_id, primary_id]);
    send_udp(&format!("10.9.0.3:{PORT}"), 10);
    assert!(hits(&bpf, "primary_hits") >= 10, "the second program ran");
    assert!(hits(&bpf, "peer_hits") >= 10, "the first program ran");

    let program = netkit(&mut bpf, "count_primary");
    let err = program
        .attach("nkb", NetkitAttachType::Primary)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::Netkit(NetkitError::NotPrimary { name }) if name == "nkb"),
        "{err:?}"
    );
    let err = program.attach("lo", NetkitAttachType::Peer).unwrap_err();
    assert!(
        matches!(&err, ProgramError::Netkit(NetkitError::NotNetkit { name }) if name == "lo"),
        "{err:?}"
    );
    let err = program
        .attach("nosuchnk0", NetkitAttachType::Primary)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::Netkit(NetkitError::InterfaceNotFound { name, .. }) if name == "nosuchnk0"),
        "{err:?}"
    );
    assert!(err.to_string().contains("nosuchnk0"), "{err}");

    // Deleting the primary deletes the peer; the links it leaves behind drop quietly.
    link_del(if_nametoindex("nka").unwrap()).unwrap();
    assert!(
        if_nametoindex("nkb").is_err(),
        "the peer went with the primary"
    );
    drop(bpf);
}

#[test]
fn netkit_without_kernel_support_is_not_supported() {
    let _netns = TestNetns::enter();
    let supported = integration_tests::config_off("NETKIT").is_none();
    if supported {
        netkit_add("nkprobe", "nkprobe1", NetkitMode::L2).expect("a netkit pair");
    }
    let mut bpf = open();
    let program = netkit(&mut bpf, "count_primary");
    program.load().unwrap();
    let err = program.attach("lo", NetkitAttachType::Primary).unwrap_err();
    if supported {
        assert!(
            matches!(&err, ProgramError::Netkit(NetkitError::NotNetkit { name }) if name == "lo"),
            "{err:?}"
        );
    } else {
        assert!(
            matches!(
                &err,
                ProgramError::NotSupported {
                    feature: "netkit links"
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "not supported by this kernel: netkit links"
        );
    }
}

#[test]
fn netkit_sections_get_their_type_and_load() {
    let mut bpf = open();
    for name in ["count_primary", "count_peer"] {
        let program = bpf.program_mut(name).unwrap();
        assert_eq!(program.type_name(), "netkit", "{name}");
        program.load().unwrap();
        assert_eq!(
            program.info().unwrap().program_type(),
            bpf_sys::generated::bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS
        );
    }
    let peer = netkit(&mut bpf, "count_peer");
    assert_eq!(peer.default_attach_type(), Some(NetkitAttachType::Peer));
    let err = peer
        .attach("nosuchnk1", NetkitAttachType::Peer)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProgramError::Netkit(NetkitError::InterfaceNotFound { .. })
        ),
        "{err:?}"
    );
}
