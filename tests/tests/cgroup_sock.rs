//! cgroup_sock: sock_create and post_bind4 on a fresh cgroup (link and BPF_PROG_ATTACH).

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{AttachMethod, CgroupAttachMode, CgroupSock};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

const PORT: u16 = 40011;

fn sock<'a>(bpf: &'a mut bpf_programs::Bpf, name: &str) -> &'a mut CgroupSock {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

/// The child's work: five IPv4 sockets, the last bound to `PORT`.
fn create_and_bind(_: &str) {
    for _ in 0..4 {
        drop(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
    }
    drop(std::net::UdpSocket::bind(("127.0.0.1", PORT)).unwrap());
}

#[test]
fn cgroup_sock_create_and_post_bind_fire_until_detached() {
    const TEST: &str = "cgroup_sock_create_and_post_bind_fire_until_detached";
    if net_support::child_mode(create_and_bind) {
        return;
    }
    for method in [AttachMethod::Auto, AttachMethod::Legacy] {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(PORT);
        let create = sock(&mut bpf, "count_sock_create");
        create.load().unwrap();
        let create_id = create
            .attach_with_method(&cgroup.dir, CgroupAttachMode::Single, method)
            .unwrap();
        let bind = sock(&mut bpf, "count_post_bind4");
        bind.load().unwrap();
        assert_eq!(
            bind.attach_type().unwrap(),
            bpf_sys::generated::bpf_attach_type::BPF_CGROUP_INET4_POST_BIND
        );
        bind.attach_with_method(&cgroup.dir, CgroupAttachMode::AllowMultiple, method)
            .unwrap();
        assert!(
            hits_during(&bpf, 2, &cgroup, TEST, "sockets") >= 5,
            "{method:?}: sock_create"
        );
        assert_eq!(
            integration_tests::value_at(&bpf, "hits", 11),
            1,
            "{method:?}: post_bind4"
        );
        sock(&mut bpf, "count_sock_create")
            .detach(create_id)
            .unwrap();
        drop(bpf.take_program("count_post_bind4"));
        assert_eq!(
            hits_during(&bpf, 2, &cgroup, TEST, "sockets"),
            0,
            "{method:?}"
        );
        assert_eq!(
            integration_tests::value_at(&bpf, "hits", 11),
            1,
            "{method:?}"
        );
    }
}
