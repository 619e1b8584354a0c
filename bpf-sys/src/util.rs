//! Small system facts: possible CPUs, page size.

use std::io;
use std::sync::OnceLock;

const POSSIBLE_CPUS: &str = "/sys/devices/system/cpu/possible";

/// The possible CPU ids, from `/sys/devices/system/cpu/possible`.
pub fn possible_cpus() -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(POSSIBLE_CPUS)?;
    parse_cpu_list(&text).map_err(|reason| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{POSSIBLE_CPUS}: {reason}: {text:?}"),
        )
    })
}

/// How many slots a per-CPU value has (highest possible CPU id + 1), cached.
pub fn possible_cpu_count() -> io::Result<usize> {
    static COUNT: OnceLock<usize> = OnceLock::new();
    if let Some(&count) = COUNT.get() {
        return Ok(count);
    }
    let cpus = possible_cpus()?;
    let count = cpus.iter().max().map_or(0, |&max| max as usize + 1);
    Ok(*COUNT.get_or_init(|| count))
}

/// Parses a kernel CPU list such as `0-3,5,7-8`.
pub fn parse_cpu_list(text: &str) -> Result<Vec<u32>, &'static str> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (start, end) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part.trim(), part.trim()),
        };
        let start: u32 = start.parse().map_err(|_| "bad CPU number")?;
        let end: u32 = end.parse().map_err(|_| "bad CPU number")?;
        if end < start {
            return Err("descending CPU range");
        }
        cpus.extend(start..=end);
    }
    Ok(cpus)
}

/// The system page size in bytes.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Lifts `RLIMIT_MEMLOCK` to unlimited; kernels before 5.11 charge BPF memory against it.
pub fn bump_memlock_rlimit() -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `limit` is a valid rlimit for the duration of the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0\n"), Ok(vec![0]));
        assert_eq!(parse_cpu_list("0-3,5,7-8"), Ok(vec![0, 1, 2, 3, 5, 7, 8]));
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("x").is_err());
    }
}
