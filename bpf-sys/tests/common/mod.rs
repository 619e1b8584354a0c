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
