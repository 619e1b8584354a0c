//! Fixtures of the net_* and cgroup_* tests: a private network namespace the test thread
//! enters (left and deleted on drop), veth pairs in it, and a child cgroup in which a test
//! re-runs itself as a child process to trigger the hooks.

#![allow(dead_code)] // Each test binary uses a different part.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use bpf_sys::netns::enter_netns;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A name no other test (of this or a parallel test process) uses.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `ip` with `args`, panicking with its stderr on failure.
pub fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh network namespace the calling thread is in until the guard drops.
pub struct TestNetns {
    pub name: String,
    pub file: File,
    previous: File,
}

impl TestNetns {
    /// Creates the namespace (with `lo` up) and moves the calling thread into it.
    pub fn enter() -> TestNetns {
        let name = unique_name("bpfnet");
        let previous = File::open("/proc/thread-self/ns/net").expect("own netns opens");
        ip(&["netns", "add", &name]);
        let guard = TestNetns {
            file: File::open(format!("/run/netns/{name}")).expect("netns file opens"),
            name,
            previous,
        };
        guard.ip(&["link", "set", "lo", "up"]);
        enter_netns(guard.file.as_fd()).expect("setns into the test netns");
        guard
    }

    /// Runs `ip -n <netns> args`.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// Waits (up to 5 s) until `dev` carries traffic: the kernel activates a device's qdisc
    /// asynchronously after it goes up, and until then (`qdisc noop`) it drops what is sent.
    pub fn wait_until_up(&self, dev: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let output = Command::new("ip")
                .args(["-n", &self.name, "link", "show", "dev", dev])
                .output()
                .expect("ip runs");
            let text = String::from_utf8_lossy(&output.stdout);
            let carrying = ["qdisc noop", "NO-CARRIER", "state DOWN", "LOWERLAYERDOWN"]
                .iter()
                .all(|sign| !text.contains(sign));
            if carrying && text.contains(dev) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{dev} did not come up: {text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Adds veth pair `va` (10.9.0.1/24, 02:00:00:00:00:01) ↔ `vb` (02:00:00:00:00:02), both up,
    /// with 10.9.0.3 resolving to `vb`: UDP sent to 10.9.0.3 leaves `va` and arrives on `vb`.
    pub fn add_veth_pair(&self) {
        self.ip(&[
            "link",
            "add",
            "va",
            "address",
            "02:00:00:00:00:01",
            "type",
            "veth",
            "peer",
            "name",
            "vb",
            "address",
            "02:00:00:00:00:02",
        ]);
        self.ip(&["addr", "add", "10.9.0.1/24", "dev", "va"]);
        self.ip(&["link", "set", "va", "up"]);
        self.ip(&["link", "set", "vb", "up"]);
        self.wait_until_up("va");
        self.wait_until_up("vb");
        self.ip(&[
            "neigh",
            "add",
            "10.9.0.3",
            "lladdr",
            "02:00:00:00:00:02",
            "dev",
            "va",
            "nud",
            "permanent",
        ]);
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = enter_netns(self.previous.as_fd());
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// `read()` once it reaches `at_least`, else what it reads after 2 s. Datagrams sent through
/// lo, a veth or netkit are received in softirq context, which under load (and in the TCG
/// guests) can run after `send` returned: a counter of received packets lags its sends.
pub fn once_at_least(at_least: u64, mut read: impl FnMut() -> u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let value = read();
        if value >= at_least || std::time::Instant::now() >= deadline {
            return value;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Sends `count` UDP datagrams from a fresh socket to `addr`.
pub fn send_udp(addr: &str, count: usize) {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").expect("udp socket binds");
    for _ in 0..count {
        socket.send_to(b"ping", addr).expect("udp send");
    }
}

/// A fresh cgroup2 directory under `/sys/fs/cgroup/unified`, removed on drop.
pub struct TestCgroup {
    pub path: PathBuf,
    pub dir: File,
}

impl TestCgroup {
    pub fn new() -> TestCgroup {
        let path = PathBuf::from("/sys/fs/cgroup/unified").join(unique_name("bpfcg"));
        std::fs::create_dir(&path).expect("child cgroup is created");
        let dir = File::open(&path).expect("cgroup dir opens");
        TestCgroup { path, dir }
    }

    /// Re-runs test `test` of this binary in a child process that joins this cgroup first;
    /// the child sees `action` through [`child_mode`] and does only that.
    pub fn run_child(&self, test: &str, action: &str) {
        let exe = std::env::current_exe().expect("own test binary");
        let mut child = Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ACTION, action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("child test process starts");
        std::fs::write(self.path.join("cgroup.procs"), child.id().to_string())
            .expect("child joins the cgroup");
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(b"go\n").expect("child is told to go");
        drop(stdin);
        let output = child.wait_with_output().expect("child finishes");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "child `{test}` ({action}) failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The environment variable carrying a child's action.
const CHILD_ACTION: &str = "NET_SUPPORT_CHILD_ACTION";

/// In a child started by [`TestCgroup::run_child`]: waits until it is in the cgroup, runs
/// `trigger(action)` and returns true (the test must then return). Otherwise false.
pub fn child_mode(trigger: impl FnOnce(&str)) -> bool {
    let Ok(action) = std::env::var(CHILD_ACTION) else {
        return false;
    };
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("go line");
    trigger(&action);
    true
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// How much counter `key` of `bpf`'s `hits` map grows while a child of test `test` in
/// `cgroup` does `action`.
pub fn hits_during(
    bpf: &bpf_programs::Bpf,
    key: u32,
    cgroup: &TestCgroup,
    test: &str,
    action: &str,
) -> u64 {
    let before = integration_tests::value_at(bpf, "hits", key);
    cgroup.run_child(test, action);
    integration_tests::value_at(bpf, "hits", key) - before
}

/// Opens the cgroup test object with `target_port` set.
pub fn open_cgroup_object(port: u16) -> bpf_programs::Bpf {
    bpf_programs::BpfLoader::new()
        .set_global("target_port", &port)
        .load(integration_tests::bpf_object!("cgroup_programs.bpf.o"))
        .expect("object opens")
}

/// Waits up to a second for `condition`: a link fd closed right after a parallel test forked
/// stays referenced by the child until it execs, so the detach can lag by that window.
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..100 {
        if condition() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for: {what}");
}
