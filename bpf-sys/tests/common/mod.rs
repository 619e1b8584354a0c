//! Helpers shared by the bpf-sys kernel tests.
#![allow(dead_code)]

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use bpf_sys::generated::{bpf_map_type, bpf_prog_type};
use bpf_sys::insn;
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::prog::{ProgLoadAttr, prog_load};

/// A name unique to this process and call, for pins and devices.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Makes sure /sys/fs/bpf is a bpffs mount and returns it.
pub fn bpffs() -> &'static Path {
    let path = Path::new("/sys/fs/bpf");
    let mounted = std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/bpf") && l.contains("bpf"));
    if !mounted {
        let status = std::process::Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .status()
            .expect("run mount");
        assert!(status.success(), "mounting bpffs failed");
    }
    path
}

/// Removes a path on drop.
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A u32 → u64 hash map.
pub fn hash_map(name: &str, max_entries: u32) -> MapFd {
    MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_HASH,
        key_size: 4,
        value_size: 8,
        max_entries,
        name,
        ..Default::default()
    })
    .expect("create hash map")
}

/// Loads `r0 = ret; exit` as `prog_type`.
pub fn return_prog(prog_type: bpf_prog_type::Type, name: &str, ret: i32) -> OwnedFd {
    let insns = [insn::mov64_imm(0, ret), insn::exit()];
    prog_load(&ProgLoadAttr {
        prog_type,
        name,
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .expect("load trivial program")
}

/// Runs `cmd args…`, panicking with its stderr on failure.
pub fn run(cmd: &str, args: &[&str]) {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .expect("spawn command");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A one-slot u64 array map counting program runs.
pub fn counter_map(name: &str) -> MapFd {
    MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        name,
        ..Default::default()
    })
    .expect("create counter map")
}

/// The counter's value.
pub fn read_counter(map: &MapFd) -> u64 {
    let mut value = [0u8; 8];
    assert!(map.lookup(&0u32.to_ne_bytes(), &mut value, 0).unwrap());
    u64::from_ne_bytes(value)
}

/// Loads a program of `prog_type` that increments `counter[0]` and returns `ret`.
pub fn counting_prog(
    prog_type: bpf_prog_type::Type,
    expected_attach_type: u32,
    name: &str,
    counter: &MapFd,
    ret: i32,
) -> OwnedFd {
    use std::os::fd::AsRawFd;
    let [ld0, ld1] = insn::ld_map_fd(1, counter.fd().as_raw_fd());
    let insns = counting_insns(ld0, ld1, ret);
    prog_load(&ProgLoadAttr {
        prog_type,
        expected_attach_type,
        name,
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("load counting program: {e}"))
}

/// `counter[0] += 1; return ret`, given the two halves of the counter map's `ld_imm64`.
pub fn counting_insns(
    ld0: bpf_sys::generated::bpf_insn,
    ld1: bpf_sys::generated::bpf_insn,
    ret: i32,
) -> [bpf_sys::generated::bpf_insn; 11] {
    [
        insn::st_mem(insn::BPF_W, 10, -4, 0),
        ld0,
        ld1,
        insn::mov64_reg(2, 10),
        insn::add64_imm(2, -4),
        insn::call_helper(bpf_sys::generated::bpf_func_id::BPF_FUNC_map_lookup_elem),
        insn::jeq_imm(0, 0, 2),
        insn::mov64_imm(1, 1),
        insn::atomic_add64(0, 1, 0),
        insn::mov64_imm(0, ret),
        insn::exit(),
    ]
}

/// The vmlinux BTF id of `FUNC name`, via bpftool (bpf-sys has no BTF parser by design);
/// `None` when the kernel has no BTF or no such function in it. Panics when bpftool cannot
/// dump it.
pub fn vmlinux_func_id(name: &str) -> Option<u32> {
    kernel_btf_names(name)?;
    let out = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
        .expect("bpftool runs (the tests need it)");
    assert!(out.status.success(), "bpftool btf dump: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let needle = format!("] FUNC '{name}' ");
    let line = text.lines().find(|l| l.contains(&needle))?;
    line.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// A veth pair created with `ip link`, deleted on drop.
pub struct Veth {
    /// The end programs attach to.
    pub name: String,
    /// The other end, used to send frames in.
    pub peer: String,
}

impl Veth {
    /// Creates a pair and brings both ends up.
    pub fn new() -> Veth {
        let n = unique("");
        let veth = Veth {
            name: format!("bsa{n}"),
            peer: format!("bsb{n}"),
        };
        assert!(veth.name.len() <= 15, "{}", veth.name);
        run(
            "ip",
            &[
                "link", "add", &veth.name, "type", "veth", "peer", "name", &veth.peer,
            ],
        );
        run("ip", &["link", "set", &veth.name, "up"]);
        run("ip", &["link", "set", &veth.peer, "up"]);
        veth
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.name])
            .status();
    }
}

/// Sends one broadcast Ethernet frame out of interface `ifindex` through an AF_PACKET socket.
pub fn send_frame(ifindex: u32) {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: plain socket(2); the result is checked and owned right away.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    assert!(
        raw >= 0,
        "AF_PACKET socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: socket(2) just returned this fd.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut frame = [0u8; 60];
    frame[..6].copy_from_slice(&[0xff; 6]);
    frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    frame[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
    // SAFETY: sockaddr_ll is plain data; all-zero is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = ifindex as i32;
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    // SAFETY: frame and addr are live for the call and their exact sizes are passed.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    assert_eq!(sent, 60, "sendto: {}", std::io::Error::last_os_error());
}

/// Whether the running kernel's BTF holds the string `name` (an enumerator such as
/// `BPF_TCX_INGRESS`, a function, a type): what the kernel was built with, read from the
/// string section of /sys/kernel/btf/vmlinux (bpf-sys has no BTF parser by design).
/// `None` without kernel BTF.
pub fn kernel_btf_names(name: &str) -> Option<bool> {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    let word = |at: usize| u32::from_ne_bytes(btf[at..at + 4].try_into().unwrap()) as usize;
    let (hdr_len, str_off, str_len) = (word(4), word(16), word(20));
    let strings = &btf[hdr_len + str_off..hdr_len + str_off + str_len];
    Some(strings.split(|&b| b == 0).any(|s| s == name.as_bytes()))
}

/// True (after printing the SKIPPED line for `test`) if the kernel's BTF does not name `what`,
/// which `feature` needs.
pub fn kernel_lacks(test: &str, what: &str, feature: &str) -> bool {
    match kernel_btf_names(what) {
        Some(true) => false,
        Some(false) => {
            println!("SKIPPED {test}: {feature}: the kernel's BTF has no {what}");
            true
        }
        None => {
            println!("SKIPPED {test}: {feature}: no kernel BTF to look for {what} in");
            true
        }
    }
}

/// True (after printing `test`'s SKIPPED line) when this kernel refuses trampolines: a raw
/// fentry load got EPERM with an empty verifier log (refused before verification) although
/// the process has CAP_SYS_ADMIN. Any other failure is the test's.
pub fn trampolines_refused(test: &str, error: &bpf_sys::error::ProgLoadError) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap();
    let sys_admin = eff & (1 << 21) != 0;
    if error.errno() == Some(libc::EPERM) && error.verifier_log.is_empty() && sys_admin {
        println!(
            "SKIPPED {test}: the kernel refuses trampolines (EPERM before verification, with \
             CAP_SYS_ADMIN)"
        );
        return true;
    }
    false
}

/// Waits (up to 2 s) for `condition`: a closed link detaches only when its last fd goes, and a
/// child that a parallel test is spawning holds copies of every fd until it execs.
#[allow(dead_code)] // Not every test binary closes links.
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
