//! sock_ops: TCP connects on loopback by a fresh cgroup's process.

#[path = "net_support/mod.rs"]
mod net_support;

use std::net::TcpListener;

use bpf_programs::programs::{AttachMethod, CgroupAttachMode, SockOps};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

/// The child's work: three TCP connects to the port in `action`.
fn connect(action: &str) {
    let port: u16 = action.parse().unwrap();
    for _ in 0..3 {
        drop(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    }
}

#[test]
fn sock_ops_fires_on_tcp_connect_until_detached() {
    const TEST: &str = "sock_ops_fires_on_tcp_connect_until_detached";
    if net_support::child_mode(connect) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let action = port.to_string();
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(port);
        let program: &mut SockOps = bpf
            .program_mut("count_sockops")
            .unwrap()
            .try_into()
            .unwrap();
        program.load().unwrap();
        let id = program
            .attach_with_method(&cgroup.dir, CgroupAttachMode::AllowMultiple, method)
            .unwrap();
        assert_eq!(
            hits_during(&bpf, 10, &cgroup, TEST, &action),
            3,
            "{method:?}"
        );
        let program: &mut SockOps = bpf
            .program_mut("count_sockops")
            .unwrap()
            .try_into()
            .unwrap();
        program.detach(id).unwrap();
        assert_eq!(
            hits_during(&bpf, 10, &cgroup, TEST, &action),
            0,
            "{method:?}"
        );
    }
}
