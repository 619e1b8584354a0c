//! Shared helpers for the real-kernel integration tests.

use bpf_programs::Bpf;
use bpf_programs::maps::HashMap;

/// Prints the one line a test that cannot run here must print; the caller then returns.
pub fn skip(test_path: &str, reason: impl std::fmt::Display) {
    println!("SKIPPED {test_path}: {reason}");
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

/// Whether the running kernel's BTF (`/sys/kernel/btf/vmlinux`) names `name`: an enumerator
/// such as `BPF_MAP_TYPE_BLOOM_FILTER` or `BPF_FUNC_get_attach_cookie`, a function, a type. How
/// a test tells what an older kernel lacks without asking the library; false without BTF.
pub fn kernel_btf_has_name(name: &str) -> bool {
    static STRINGS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let btf = STRINGS.get_or_init(|| std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default());
    let needle: Vec<u8> = [&[0u8][..], name.as_bytes(), &[0]].concat();
    btf.windows(needle.len()).any(|window| window == needle)
}

/// Whether the kernel has bpf cookies (`bpf_get_attach_cookie`, Linux 5.15): attachments that
/// carry one need them; older kernels attach the same programs without.
pub fn kernel_has_bpf_cookies() -> bool {
    kernel_btf_has_name("BPF_FUNC_get_attach_cookie")
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
