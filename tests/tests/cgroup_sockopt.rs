//! cgroup_sockopt: getsockopt and setsockopt hooks on a fresh cgroup.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{CgroupAttachMode, CgroupSockopt};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

fn sockopt<'a>(bpf: &'a mut bpf_programs::Bpf, name: &str) -> &'a mut CgroupSockopt {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

#[test]
fn cgroup_sockopt_get_and_set_fire_until_detached() {
    let cgroup = TestCgroup::new();
    let mut bpf = open_cgroup_object(0);
    let get = sockopt(&mut bpf, "count_getsockopt");
    get.load().unwrap();
    let get_id = get.attach(&cgroup.dir, CgroupAttachMode::Single).unwrap();
    let set = sockopt(&mut bpf, "count_setsockopt");
    set.load().unwrap();
    let set_id = set.attach(&cgroup.dir, CgroupAttachMode::Single).unwrap();
    let code = "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(4):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) > 0
";
    cgroup.run_python(code);
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
    assert_eq!(hits_during(&bpf, 6, &cgroup, code), 0);
    assert_eq!(hits_during(&bpf, 7, &cgroup, code), 0);
}
