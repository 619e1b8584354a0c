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
    let map = bpf.map(map).unwrap_or_else(|| panic!("no map `{map}`"));
    let hits: HashMap<_, u32, u64> = HashMap::try_from(map).expect("a u32 → u64 hash map");
    hits.get(&0, 0).expect("lookup").unwrap_or(0)
}

/// Makes `n` getpid() system calls.
pub fn getpid_n(n: usize) {
    for _ in 0..n {
        std::hint::black_box(std::process::id());
    }
}
