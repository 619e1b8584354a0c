//! cgroup_sock_addr: connect4, sendmsg4, bind4, recvmsg4, getsockname4 on a fresh cgroup.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{
    AttachMethod, CgroupAttachError, CgroupAttachMode, CgroupSockAddr, ProgramError,
};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

const PORT: u16 = 40012;

fn addr<'a>(bpf: &'a mut bpf_programs::Bpf, name: &str) -> &'a mut CgroupSockAddr {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

/// The child's work: `udp` exercises bind, sendmsg, recvmsg, getsockname and connect three
/// times; `unix:<path>` connects to a unix socket three times.
fn trigger(action: &str) {
    if let Some(path) = action.strip_prefix("unix:") {
        for _ in 0..3 {
            drop(std::os::unix::net::UnixStream::connect(path).unwrap());
        }
        return;
    }
    let mut buf = [0u8; 16];
    for _ in 0..3 {
        let receiver = std::net::UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
        let sender = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        sender.send_to(b"x", ("127.0.0.1", PORT)).unwrap();
        receiver.recv_from(&mut buf).unwrap();
        receiver.local_addr().unwrap();
        sender.connect(("127.0.0.1", PORT)).unwrap();
    }
}

#[test]
fn cgroup_sock_addr_hooks_fire_until_detached() {
    const TEST: &str = "cgroup_sock_addr_hooks_fire_until_detached";
    if net_support::child_mode(trigger) {
        return;
    }
    // (program, counter key) — each hook is triggered three times by the snippet.
    let hooks = [
        ("count_connect4", 3),
        ("count_sendmsg4", 4),
        ("count_bind4", 5),
        ("count_recvmsg4", 13),
        ("count_getsockname4", 12),
    ];
    for method in [AttachMethod::Link, AttachMethod::Legacy] {
        let cgroup = TestCgroup::new();
        let mut bpf = open_cgroup_object(PORT);
        let mut ids = Vec::new();
        for (name, _) in hooks {
            let program = addr(&mut bpf, name);
            program.load().unwrap();
            ids.push(
                program
                    .attach_with_method(&cgroup.dir, CgroupAttachMode::AllowMultiple, method)
                    .unwrap(),
            );
        }
        cgroup.run_child(TEST, "udp");
        for (name, key) in hooks {
            let fired = integration_tests::value_at(&bpf, "hits", key);
            assert!(fired >= 3, "{method:?}: {name} fired {fired} times");
        }
        for ((name, _), id) in hooks.iter().zip(ids) {
            addr(&mut bpf, name).detach(id).unwrap();
        }
        for (name, key) in hooks {
            assert_eq!(
                hits_during(&bpf, key, &cgroup, TEST, "udp"),
                0,
                "{method:?}: {name}"
            );
        }
    }
}

#[test]
fn cgroup_sock_addr_connect_unix_fires() {
    const TEST: &str = "cgroup_sock_addr_connect_unix_fires";
    if net_support::child_mode(trigger) {
        return;
    }
    if !integration_tests::kernel_enum_has("bpf_attach_type", "BPF_CGROUP_UNIX_CONNECT") {
        integration_tests::skip(
            "cgroup_sock_addr::cgroup_sock_addr_connect_unix_fires",
            "no unix socket address hooks: the kernel's enum bpf_attach_type has no \
             BPF_CGROUP_UNIX_CONNECT",
        );
        return;
    }
    let cgroup = TestCgroup::new();
    let mut bpf = open_cgroup_object(PORT);
    let program = addr(&mut bpf, "count_connect_unix");
    program.load().unwrap();
    let dir = std::env::temp_dir().join(net_support::unique_name("bpfunix"));
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let action = format!("unix:{}", path.display());
    let id = program
        .attach(&cgroup.dir, CgroupAttachMode::Single)
        .unwrap();
    assert!(hits_during(&bpf, 14, &cgroup, TEST, &action) >= 3);
    addr(&mut bpf, "count_connect_unix").detach(id).unwrap();
    assert_eq!(hits_during(&bpf, 14, &cgroup, TEST, &action), 0);
    drop(listener);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cgroup_sock_addr_attach_to_a_non_cgroup_names_program_and_hook() {
    let mut bpf = open_cgroup_object(PORT);
    let program = addr(&mut bpf, "count_connect4");
    program.load().unwrap();
    let not_a_cgroup = std::fs::File::open("/dev/null").unwrap();
    for method in [AttachMethod::Auto, AttachMethod::Legacy] {
        let err = program
            .attach_with_method(&not_a_cgroup, CgroupAttachMode::Single, method)
            .unwrap_err();
        assert!(
            matches!(
                &err,
                ProgramError::CgroupAttach(CgroupAttachError::NotACgroup { program, attach_type, .. })
                    if program == "count_connect4" && *attach_type == "connect4"
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("count_connect4") && text.contains("not a cgroup"),
            "{text}"
        );
        assert_eq!(
            err.errno(),
            Some(libc::EBADF),
            "the kernel's errno stays reachable"
        );
    }
}
