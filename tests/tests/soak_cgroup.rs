//! Soak tests of cgroup attachments: a `bpf_link` on a cgroup and `BPF_PROG_ATTACH` in
//! multi-program and single-program mode. The test process joins its own cgroup for the run
//! (the tests of this binary run one at a time), so its own sockets fire the programs.

#[path = "net_support/mod.rs"]
mod net_support;
#[path = "soak_support/mod.rs"]
mod soak_support;

use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::path::PathBuf;

use bpf_programs::Bpf;
use bpf_programs::programs::{
    AttachMethod, CgroupAttachMode, CgroupSkb, CgroupSkbAttachType, CgroupSock, CgroupSockAddr,
    cgroup_skb, cgroup_sock, cgroup_sock_addr,
};
use bpf_sys::attach::{AttachTarget, Relative, prog_detach};
use bpf_sys::generated::bpf_attach_type;
use integration_tests::value_at;
use net_support::{TestCgroup, open_cgroup_object};
use soak_support::{Kind, serial, soak};

const PORT: u16 = 40078;

attachable!(
    CgroupSkb => cgroup_skb::CgroupSkbLink,
    CgroupSock => cgroup_sock::CgroupSockLink,
    CgroupSockAddr => cgroup_sock_addr::CgroupSockAddrLink,
);

/// The whole test process in `cgroup` until dropped, then back where it was.
struct Joined {
    previous: PathBuf,
}

impl Joined {
    fn join(cgroup: &TestCgroup) -> Joined {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let relative = own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .expect("a cgroup2 line in /proc/self/cgroup");
        let previous =
            PathBuf::from("/sys/fs/cgroup/unified").join(relative.trim_start_matches('/'));
        std::fs::write(cgroup.path.join("cgroup.procs"), "0").unwrap();
        Joined { previous }
    }
}

impl Drop for Joined {
    fn drop(&mut self) {
        std::fs::write(self.previous.join("cgroup.procs"), "0").unwrap();
    }
}

fn open() -> Bpf {
    open_cgroup_object(PORT)
}

/// Creates a UDP socket and sends one datagram to the test port; says whether counter `key`
/// grew.
fn fires_on_udp(bpf: &Bpf, key: u32) -> bool {
    let before = value_at(bpf, "hits", key);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.send_to(b"ping", ("127.0.0.1", PORT)).unwrap();
    value_at(bpf, "hits", key) > before
}

fn detach_behind_the_back(bpf: &Bpf, program: &str, cgroup: &TestCgroup, attach_type: u32) {
    let fd = bpf.program(program).unwrap().fd().unwrap();
    prog_detach(
        AttachTarget::Fd(cgroup.dir.as_fd()),
        Some(fd.as_fd()),
        attach_type,
        0,
        Relative::None,
        0,
    )
    .unwrap();
}

#[test]
fn soak_cgroup_link() {
    let _serial = serial();
    let cgroup = TestCgroup::new();
    let _joined = Joined::join(&cgroup);
    soak(Kind::<CgroupSkb> {
        label: "cgroup_skb bpf_link",
        open: &open,
        program: "count_egress",
        attach: &|p| {
            p.attach_with_method(
                &cgroup.dir,
                CgroupSkbAttachType::Egress,
                CgroupAttachMode::AllowMultiple,
                AttachMethod::Link,
            )
        },
        fire: &|bpf| fires_on_udp(bpf, 0),
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_cgroup_prog_attach_multi() {
    let _serial = serial();
    let cgroup = TestCgroup::new();
    let _joined = Joined::join(&cgroup);
    soak(Kind::<CgroupSock> {
        label: "cgroup/sock_create BPF_PROG_ATTACH (multi)",
        open: &open,
        program: "count_sock_create",
        attach: &|p| {
            p.attach_with_method(
                &cgroup.dir,
                CgroupAttachMode::AllowMultiple,
                AttachMethod::Legacy,
            )
        },
        fire: &|bpf| fires_on_udp(bpf, 2),
        kernel_links: 0,
        remove_elsewhere: Some(&|bpf| {
            detach_behind_the_back(
                bpf,
                "count_sock_create",
                &cgroup,
                bpf_attach_type::BPF_CGROUP_INET_SOCK_CREATE,
            )
        }),
    });
}

#[test]
fn soak_cgroup_prog_attach_single() {
    let _serial = serial();
    let cgroup = TestCgroup::new();
    let _joined = Joined::join(&cgroup);
    soak(Kind::<CgroupSockAddr> {
        label: "cgroup/sendmsg4 BPF_PROG_ATTACH (single)",
        open: &open,
        program: "count_sendmsg4",
        attach: &|p| p.attach(&cgroup.dir, CgroupAttachMode::Single),
        fire: &|bpf| fires_on_udp(bpf, 4),
        kernel_links: 0,
        remove_elsewhere: Some(&|bpf| {
            detach_behind_the_back(
                bpf,
                "count_sendmsg4",
                &cgroup,
                bpf_attach_type::BPF_CGROUP_UDP4_SENDMSG,
            )
        }),
    });
}
