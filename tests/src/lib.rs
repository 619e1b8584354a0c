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
        Err(e @ (ProgramError::Load { .. } | ProgramError::PermissionDenied { .. }))
            if e.errno() == Some(libc::EPERM) =>
        {
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
