//! Shared helpers for the real-kernel integration tests.

use bpf_programs::Bpf;
use bpf_programs::maps::HashMap;

/// Prints the one line a test that cannot run here must print; the caller then returns.
pub fn skip(test_path: &str, reason: impl std::fmt::Display) {
    println!("SKIPPED {test_path}: {reason}");
}

/// Linux capability numbers the tests check for (`capability.h`).
pub const CAP_SYS_ADMIN: u32 = 21;
/// Lets a process load BPF programs without CAP_SYS_ADMIN (Linux 5.8).
pub const CAP_BPF: u32 = 39;
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
    BTF.get_or_init(|| bpf_programs::btf::read_btf_file("/sys/kernel/btf/vmlinux").ok())
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

/// The process's open fds with what each refers to (`anon_inode:bpf-map`, a path, …), so a
/// count that moved can say which fds did.
pub fn open_fds() -> std::collections::BTreeMap<i32, String> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            // A bpf object's fdinfo says which one it is (type, sizes, id).
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))
                .unwrap_or_default()
                .lines()
                .filter(|l| {
                    l.starts_with("map_")
                        || l.starts_with("prog_")
                        || l.starts_with("btf_id")
                        || l.starts_with("key_size")
                        || l.starts_with("value_size")
                })
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join("="))
                .collect::<Vec<_>>()
                .join(" ");
            Some((
                fd,
                format!("{} {info}", target.display()).trim_end().to_owned(),
            ))
        })
        .collect()
}

/// The fds in `after` that differ from `before`, one `fd: before -> after` per line.
pub fn fd_changes(
    before: &std::collections::BTreeMap<i32, String>,
    after: &std::collections::BTreeMap<i32, String>,
) -> String {
    let fds: std::collections::BTreeSet<i32> = before.keys().chain(after.keys()).copied().collect();
    fds.into_iter()
        .filter(|fd| before.get(fd) != after.get(fd))
        .map(|fd| {
            let side = |m: &std::collections::BTreeMap<i32, String>| {
                m.get(&fd).cloned().unwrap_or_else(|| "closed".to_owned())
            };
            format!("{fd}: {} -> {}", side(before), side(after))
        })
        .collect::<Vec<_>>()
        .join("\n")
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

/// Why BPF trampolines (fentry, fexit, fmod_ret, lsm, freplace) cannot be used here, from a
/// raw `BPF_PROG_LOAD` of `r0 = 0; exit` as fentry on a kernel function (`None`: they can).
pub fn trampoline_refusal() -> Option<String> {
    use bpf_core::btf::BtfKind;
    use bpf_sys::generated::{bpf_attach_type, bpf_prog_type};
    let Some(btf) = kernel_btf() else {
        return Some("no kernel BTF (/sys/kernel/btf/vmlinux) to attach trampolines by".into());
    };
    let candidates = ["bpf_fentry_test1", "do_nanosleep"];
    let Some((function, attach_btf_id)) = candidates
        .iter()
        .find_map(|f| Some((*f, btf.find_by_name_kind(f, BtfKind::Func)?)))
    else {
        return Some(format!(
            "the kernel's BTF has none of {candidates:?} to attach to"
        ));
    };
    let insns = [bpf_sys::insn::mov64_imm(0, 0), bpf_sys::insn::exit()];
    let err = bpf_sys::prog::prog_load_with_log(&bpf_sys::prog::ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_TRACING,
        expected_attach_type: bpf_attach_type::BPF_TRACE_FENTRY,
        attach_btf_id,
        name: "probe_fentry",
        insns: &insns,
        license: "GPL",
        log_level: 1,
        ..Default::default()
    })
    .err()?;
    Some(match err.errno() {
        Some(libc::EPERM) if err.verifier_log.is_empty() => format!(
            "the kernel refuses trampolines: a raw fentry program on {function} gets EPERM before \
             verification"
        ),
        _ => format!("a raw fentry program on {function} does not load: {err}"),
    })
}

/// Why a trampoline program cannot be attached again once detached here (`None`: it can): a
/// raw fentry program on `do_nanosleep` attached, detached and attached again. Older kernels
/// (5.10) consume the program's trampoline target on its first attachment.
pub fn tracing_reattach_refusal() -> Option<String> {
    use bpf_core::btf::BtfKind;
    use bpf_sys::generated::{bpf_attach_type, bpf_prog_type};
    let btf = kernel_btf()?;
    let attach_btf_id = btf.find_by_name_kind("do_nanosleep", BtfKind::Func)?;
    let insns = [bpf_sys::insn::mov64_imm(0, 0), bpf_sys::insn::exit()];
    let prog = bpf_sys::prog::prog_load_with_log(&bpf_sys::prog::ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_TRACING,
        expected_attach_type: bpf_attach_type::BPF_TRACE_FENTRY,
        attach_btf_id,
        name: "probe_reattach",
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .ok()?;
    let fd = std::os::fd::AsFd::as_fd(&prog.fd);
    drop(bpf_sys::link::raw_tracepoint_open(None, fd, 0).ok()?);
    let again = bpf_sys::link::raw_tracepoint_open(None, fd, 0).err()?;
    Some(format!(
        "the kernel attaches a trampoline program only once: a raw fentry program on \
         do_nanosleep, attached and detached, cannot be attached again: {again}"
    ))
}

/// The name of the kernel's `bpf_prog_type` enumerator with value `prog_type`, read from its BTF.
fn kernel_prog_type_name(prog_type: u32) -> Option<String> {
    use bpf_core::btf::TypeKind;
    let btf = kernel_btf()?;
    let id = btf.ids_by_name("bpf_prog_type").next()?;
    let TypeKind::Enum(values) = btf.type_by_id(id).ok()?.kind else {
        return None;
    };
    values
        .values()
        .filter_map(Result::ok)
        .find(|v| v.value == u64::from(prog_type) && !v.name.starts_with("__MAX"))
        .map(|v| v.name.to_string())
}

/// Why `CONFIG_<option>` is off here (`None`: it is `y` or `m`). Without a kernel config to
/// read, says so: the caller then has no independent fact and names that.
pub fn config_off(option: &str) -> Option<String> {
    match kernel_config_value(option) {
        Ok(Some("y" | "m")) => None,
        Ok(Some(other)) => Some(format!("CONFIG_{option}={other} in the kernel config")),
        Ok(None) => Some(format!("CONFIG_{option} is not set in the kernel config")),
        Err(no_config) => Some(format!("cannot check CONFIG_{option}: {no_config}")),
    }
}

/// Why this kernel has no kprobes (`None`: it has them): its config, else the absence of both
/// the kprobe PMU and tracefs' kprobe_events.
pub fn kprobes_missing() -> Option<String> {
    match kernel_config_value("KPROBES") {
        Ok(Some("y")) => None,
        Ok(_) => Some("CONFIG_KPROBES is not set in the kernel config".into()),
        Err(_) => {
            let pmu = std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists();
            let events = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
                .iter()
                .any(|t| std::path::Path::new(t).join("kprobe_events").exists());
            (!pmu && !events).then(|| "no kprobe PMU and no tracefs kprobe_events".into())
        }
    }
}

/// Why the kernel lacks `enum_name::name` (`None`: its BTF has it).
fn enum_missing(enum_name: &str, name: &str) -> Option<String> {
    match kernel_btf() {
        None => Some(format!("no kernel BTF to look for {name} in")),
        Some(_) if kernel_enum_has(enum_name, name) => None,
        Some(_) => Some(format!("the kernel's enum {enum_name} has no {name}")),
    }
}

/// The independent fact behind a "not supported by this kernel" error of the library: `Ok`
/// with the reason when the kernel indeed lacks it, `Err` naming what shows it does.
fn confirm_not_supported(error: &bpf_programs::programs::ProgramError) -> Result<String, String> {
    use bpf_programs::programs::ProgramError;
    let fact = |missing: Option<String>, present: &str| missing.ok_or_else(|| present.to_string());
    match error {
        ProgramError::ProgramTypeNotSupported { prog_type, .. } => {
            match kernel_prog_type_name(*prog_type) {
                Some(name) => Err(format!("the kernel's bpf_prog_type has {name}")),
                None => Ok(format!(
                    "the kernel's bpf_prog_type has no value {prog_type}"
                )),
            }
        }
        ProgramError::ProgramNotSupported { feature, .. } if feature.contains("trampolines") => {
            fact(trampoline_refusal(), "a raw fentry program loads here")
        }
        ProgramError::NotSupported { feature } if feature.starts_with("kprobe.multi") => fact(
            config_off("FPROBE")
                .or_else(|| enum_missing("bpf_attach_type", "BPF_TRACE_KPROBE_MULTI")),
            "the kernel has CONFIG_FPROBE and BPF_TRACE_KPROBE_MULTI",
        ),
        ProgramError::NotSupported { feature }
            if feature.starts_with("kprobes") || feature.starts_with("kretprobes") =>
        {
            fact(kprobes_missing(), "the kernel has CONFIG_KPROBES")
        }
        ProgramError::NotSupported { feature } if feature.starts_with("uprobe.multi") => fact(
            enum_missing("bpf_attach_type", "BPF_TRACE_UPROBE_MULTI"),
            "the kernel's bpf_attach_type has BPF_TRACE_UPROBE_MULTI",
        ),
        ProgramError::NotSupported { feature } if feature.starts_with("netkit") => fact(
            enum_missing("bpf_attach_type", "BPF_NETKIT_PRIMARY"),
            "the kernel's bpf_attach_type has BPF_NETKIT_PRIMARY",
        ),
        other => Err(format!(
            "the tests have no independent check for `{other}`: add one to confirm_not_supported"
        )),
    }
}

/// True (after printing the SKIPPED line) when `result` is the library saying the kernel lacks
/// what the test needs *and* an independent fact (the kernel's BTF enums, its config, a raw
/// probe) agrees. Panics when the fact contradicts the library: that is a library bug.
pub fn skipped_unsupported<T>(
    test_path: &str,
    result: &Result<T, bpf_programs::programs::ProgramError>,
) -> bool {
    use bpf_programs::programs::ProgramError;
    let Err(
        e @ (ProgramError::ProgramTypeNotSupported { .. }
        | ProgramError::ProgramNotSupported { .. }
        | ProgramError::NotSupported { .. }),
    ) = result
    else {
        return false;
    };
    match confirm_not_supported(e) {
        Ok(reason) => {
            skip(test_path, reason);
            true
        }
        Err(contradiction) => panic!("{test_path}: the library says `{e}`, but {contradiction}"),
    }
}

/// Makes `n` getpid() system calls.
pub fn getpid_n(n: usize) {
    for _ in 0..n {
        std::hint::black_box(std::process::id());
    }
}

/// `error` and each of its sources, every level's `Display` once, joined by ": ".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        text.push_str(": ");
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

/// Whether the running kernel's BTF (`/sys/kernel/btf/vmlinux`) has the name `name` in its
/// string table: a function, a type or a struct member (`map_lookup_and_delete_elem` of
/// `bpf_map_ops`), where [`kernel_enum_has`] does not apply; false without BTF.
pub fn kernel_btf_has_name(name: &str) -> bool {
    static STRINGS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let btf = STRINGS.get_or_init(|| std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default());
    let needle: Vec<u8> = [&[0u8][..], name.as_bytes(), &[0]].concat();
    btf.windows(needle.len()).any(|window| window == needle)
}

/// The size of the kernel's `struct <name>`, read from its BTF (UAPI context structs grow
/// between releases: `__sk_buff` is 184 bytes before Linux 5.16 and 192 since).
pub fn kernel_struct_size(name: &str) -> Option<u32> {
    let btf = kernel_btf()?;
    let id = btf.find_by_name_kind(name, bpf_core::btf::BtfKind::Struct)?;
    btf.type_size(id).ok()
}

/// Whether the kernel has bpf cookies (`bpf_get_attach_cookie`, Linux 5.15): attachments that
/// carry one need them; older kernels attach the same programs without.
pub fn kernel_has_bpf_cookies() -> bool {
    kernel_enum_has("bpf_func_id", "BPF_FUNC_get_attach_cookie")
}

/// The bytes of the committed object `tests/bpf/obj/<name>`, embedded; on aarch64 its arm64
/// build (`tests/bpf/obj/arm64/<name>`: `<bpf/bpf_tracing.h>` reads registers per architecture).
#[cfg(not(target_arch = "aarch64"))]
#[macro_export]
macro_rules! bpf_object {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/obj/", $name))
    };
}

/// The bytes of the committed object `tests/bpf/obj/<name>`, embedded; on aarch64 its arm64
/// build (`tests/bpf/obj/arm64/<name>`: `<bpf/bpf_tracing.h>` reads registers per architecture).
#[cfg(target_arch = "aarch64")]
#[macro_export]
macro_rules! bpf_object {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/bpf/obj/arm64/",
            $name
        ))
    };
}
