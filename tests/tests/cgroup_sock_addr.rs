//! cgroup_sock_addr: connect4, sendmsg4, bind4, recvmsg4, getsockname4 on a fresh cgroup.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::{AttachMethod, CgroupAttachMode, CgroupSockAddr};
use net_support::{TestCgroup, hits_during, open_cgroup_object};

const PORT: u16 = 40012;

fn addr<'a>(bpf: &'a mut bpf_programs::Bpf, name: &str) -> &'a mut CgroupSockAddr {
    bpf.program_mut(name).unwrap().try_into().unwrap()
}

#[test]
fn cgroup_sock_addr_hooks_fire_until_detached() {
    // (program, counter key) — each hook is triggered three times by the snippet.
    let hooks = [
        ("count_connect4", 3),
        ("count_sendmsg4", 4),
        ("count_bind4", 5),
        ("count_recvmsg4", 13),
        ("count_getsockname4", 12),
    ];
    let code = format!(
        "import socket
for _ in range(3):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(('127.0.0.1', {PORT}))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'x', ('127.0.0.1', {PORT}))
    r.recvfrom(16)
    r.getsockname()
    s.connect(('127.0.0.1', {PORT}))
    r.close()
    s.close()
"
    );
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
        cgroup.run_python(&code);
        for (name, key) in hooks {
            let fired = integration_tests::value_at(&bpf, "hits", key);
            assert!(fired >= 3, "{method:?}: {name} fired {fired} times");
        }
        for ((name, _), id) in hooks.iter().zip(ids) {
            addr(&mut bpf, name).detach(id).unwrap();
        }
        for (name, key) in hooks {
            assert_eq!(
                hits_during(&bpf, key, &cgroup, &code),
                0,
                "{method:?}: {name}"
            );
        }
    }
}
