//! cgroup_sockopt: getsockopt and setsockopt hooks on a fresh cgroup.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{CgroupAttachMode, CgroupSockopt};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

fn sockopt<'a>(bpf: &'a mut bpf_programs::Bpf, name: &str) -> &'a mut CgroupSockopt {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

/// The child's work: IP_TTL set and read back four times.
fn set_and_get(_: &str) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..4 {
        socket.set_ttl(33).unwrap();
        assert_eq!(socket.ttl().unwrap(), 33);
    }
}

#[test]
fn cgroup_sockopt_get_and_set_fire_until_detached() {
    const TEST: &str = "cgroup_sockopt_get_and_set_fire_until_detached";
    if net_support::child_mode(set_and_get) {
        return;
    }
    let cgroup = TestCgroup::new();
    let mut bpf = open_cgroup_object(0);
    let get = sockopt(&mut bpf, "count_getsockopt");
    get.load().unwrap();
    let get_id = get.attach(&cgroup.dir, CgroupAttachMode::Single).unwrap();
    let set = sockopt(&mut bpf, "count_setsockopt");
    set.load().unwrap();
    let set_id = set.attach(&cgroup.dir, CgroupAttachMode::Single).unwrap();
    cgroup.run_child(TEST, "sockopt");
    assert_eq!(
        integration_tests::value_at(&bpf, "hits", 6),
        4,
        "getsockopt"
    );
    assert_eq!(
        integration_tests::value_at(&bpf, "hits", 7),
        4,
        "setsockopt"
    );
    sockopt(&mut bpf, "count_getsockopt")
        .detach(get_id)
        .unwrap();
    sockopt(&mut bpf, "count_setsockopt")
        .detach(set_id)
        .unwrap();
    assert_eq!(hits_during(&bpf, 6, &cgroup, TEST, "sockopt"), 0);
    assert_eq!(hits_during(&bpf, 7, &cgroup, TEST, "sockopt"), 0);
}
