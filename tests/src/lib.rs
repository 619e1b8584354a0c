//! Shared helpers for the real-kernel integration tests.

use bpf_programs::Bpf;
use bpf_programs::maps::HashMap;

/// Prints the one line a test that cannot run here must print; the caller then returns.
pub fn skip(test_path: &str, reason: impl std::fmt::Display) {
    println!("SKIPPED {test_path}: {reason}");
}

/// Linux capability numbers the tests check for (`capability.h`).
pub const CAP_SYS_ADMIN: u32 = 21;
/// Needed to create arena maps (the kernel charges their pages against it).
pub const CAP_SYS_RESOURCE: u32 = 24;

/// Whether this process's effective capability set (`CapEff` in /proc/self/status) holds `cap`.
pub fn has_capability(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .expect("/proc/self/status has a CapEff line");
    eff & (1 << cap) != 0
}

/// Why arena maps cannot be created here, from a raw `BPF_MAP_CREATE` of a one-page arena
/// (`None`: they can). The cause is named from an independent fact where one explains it.
pub fn arena_refusal() -> Option<String> {
    use bpf_sys::generated::bpf_map_type::BPF_MAP_TYPE_ARENA;
    let attr = bpf_sys::map::MapCreateAttr {
        map_type: BPF_MAP_TYPE_ARENA,
        max_entries: 1,
        map_flags: bpf_programs::maps::flags::BPF_F_MMAPABLE,
        name: "probe_arena",
        ..Default::default()
    };
    let err = bpf_sys::map::map_create(&attr).err()?;
    Some(match err.errno() {
        Some(libc::EPERM) if !has_capability(CAP_SYS_RESOURCE) => format!(
            "creating an arena map needs CAP_SYS_RESOURCE, which this process lacks (CapEff): {err}"
        ),
        Some(libc::EINVAL) if !kernel_enum_has("bpf_map_type", "BPF_MAP_TYPE_ARENA") => {
            "the kernel has no arena maps (BPF_MAP_TYPE_ARENA is not in its bpf_map_type)".into()
        }
        _ => format!("the kernel refuses a raw arena map: {err}"),
    })
}

/// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once; `None` without it.
pub fn kernel_btf() -> Option<&'static bpf_core::btf::Btf> {
    static BTF: std::sync::OnceLock<Option<bpf_core::btf::Btf>> = std::sync::OnceLock::new();
    BTF.get_or_init(|| bpf_core::btf::Btf::from_file("/sys/kernel/btf/vmlinux").ok())
        .as_ref()
}

/// The value of enumerator `name` of the kernel's `enum <enum_name>`, read from its BTF: what
/// the kernel was built with, independent of anything the library does.
pub fn kernel_enum_value(enum_name: &str, name: &str) -> Option<u64> {
    use bpf_core::btf::TypeKind;
    let btf = kernel_btf()?;
    btf.ids_by_name(enum_name)
        .find_map(|id| match btf.type_by_id(id).ok()?.kind {
            TypeKind::Enum(e) | TypeKind::Enum64(e) => e
                .values()
                .filter_map(Result::ok)
                .find(|v| v.name == name)
                .map(|v| v.value),
            _ => None,
        })
}

/// Whether the kernel's `enum <enum_name>` has the enumerator `name` (see [`kernel_enum_value`]).
pub fn kernel_enum_has(enum_name: &str, name: &str) -> bool {
    kernel_enum_value(enum_name, name).is_some()
}

/// The running kernel's config text (/boot/config-<release>, else /proc/config.gz through
/// `gzip -dc`); `None` when neither is there.
pub fn kernel_config() -> Option<&'static str> {
    static CONFIG: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
            std::fs::read_to_string(format!("/boot/config-{}", release.trim()))
                .ok()
                .or_else(|| {
                    let out = std::process::Command::new("gzip")
                        .args(["-dc", "/proc/config.gz"])
                        .output()
                        .ok()?;
                    out.status
                        .success()
                        .then(|| String::from_utf8(out.stdout).ok())?
                })
        })
        .as_deref()
}

/// The value of `CONFIG_<option>` in the running kernel's config (`y`, `m`, a number…):
/// `Ok(None)` when it is not set, `Err` naming what is missing when there is no config to read.
pub fn kernel_config_value(option: &str) -> Result<Option<&'static str>, String> {
    let config = kernel_config()
        .ok_or("no kernel config (/boot/config-<release> or /proc/config.gz) to read")?;
    let key = format!("CONFIG_{option}=");
    Ok(config.lines().find_map(|l| l.strip_prefix(key.as_str())))
}

/// The calling thread's id (tests filter on it, so parallel tests do not see each other).
pub fn gettid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .expect("/proc/thread-self names the thread id")
}

/// How many fds this process has open.
pub fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .count()
}

/// The value at key 0 of the `u32 → u64` hash map `map` (0 when absent).
pub fn counter(bpf: &Bpf, map: &str) -> u64 {
    value_at(bpf, map, 0)
}

/// The value at `key` of the `u32 → u64` hash map `map` (0 when absent).
pub fn value_at(bpf: &Bpf, map: &str, key: u32) -> u64 {
    let map = bpf.map(map).unwrap_or_else(|| panic!("no map `{map}`"));
    let hits: HashMap<_, u32, u64> = HashMap::try_from(map).expect("a u32 → u64 hash map");
    hits.get(&key, 0).expect("lookup").unwrap_or(0)
}

/// Opens `object` with `target_tid` set to the calling thread.
pub fn open_for_this_thread(object: &[u8]) -> Bpf {
    bpf_programs::BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(object)
        .expect("object opens")
}

/// True (after printing the SKIPPED line) when `result` is the kernel refusing the program
/// type outright: EPERM before the verifier (trampolines blocked) or "not supported".
pub fn skipped_unsupported<T>(
    test_path: &str,
    result: &Result<T, bpf_programs::programs::ProgramError>,
) -> bool {
    use bpf_programs::programs::ProgramError;
    match result {
        Err(e @ ProgramError::ProgramNotSupported { .. }) => {
            skip(test_path, e);
            true
        }
        Err(ProgramError::NotSupported { feature }) => {
            skip(
                test_path,
                format!("not supported by this kernel: {feature}"),
            );
            true
        }
        Err(e @ ProgramError::Load { .. }) if e.errno() == Some(libc::EPERM) => {
            skip(
                test_path,
                format!("the kernel refuses to load it (EPERM): {e}"),
            );
            true
        }
        _ => false,
    }
}

/// Makes `n` getpid() system calls.
pub fn getpid_n(n: usize) {
    for _ in 0..n {
        std::hint::black_box(std::process::id());
    }
}
