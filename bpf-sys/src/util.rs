//! Small system facts: possible CPUs, page size.

use std::io;
use std::sync::OnceLock;

const POSSIBLE_CPUS: &str = "/sys/devices/system/cpu/possible";
const ONLINE_CPUS: &str = "/sys/devices/system/cpu/online";

/// The online CPU ids, from `/sys/devices/system/cpu/online` (perf events open only on these).
pub fn online_cpus() -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(ONLINE_CPUS)?;
    parse_cpu_list(&text).map_err(|reason| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{ONLINE_CPUS}: {reason}: {text:?}"),
        )
    })
}

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

/// How many slots a per-CPU value has: one per possible CPU, in [`possible_cpus`] order (cached).
pub fn possible_cpu_count() -> io::Result<usize> {
    static COUNT: OnceLock<usize> = OnceLock::new();
    if let Some(&count) = COUNT.get() {
        return Ok(count);
    }
    let cpus = possible_cpus()?;
    // The kernel packs per-CPU values for each possible CPU in turn, holes in the mask skipped.
    let count = cpus.len();
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

/// A kernel version as `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Patch (sublevel) number.
    pub patch: u32,
}

impl KernelVersion {
    /// The running kernel's upstream version (seeing through Ubuntu's and Debian's ABI numbers).
    pub fn current() -> io::Result<Self> {
        let signature = std::fs::read_to_string("/proc/version_signature").unwrap_or_default();
        if let Some(v) = signature.split_whitespace().last().and_then(Self::parse) {
            return Ok(v);
        }
        // SAFETY: utsname is plain data for which all-zero is valid.
        let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `uts` is a valid, writable utsname.
        if unsafe { libc::uname(&mut uts) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let field = |f: &[libc::c_char]| -> String {
            let bytes: Vec<u8> = f
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c.to_ne_bytes()[0])
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let version = field(&uts.version);
        let release = field(&uts.release);
        // Debian reports "x.y.0-N-arch" as release and the real version in `version`.
        let debian = version
            .split_once("Debian ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(Self::parse);
        debian.or_else(|| Self::parse(&release)).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unparsable kernel release {release:?}"),
            )
        })
    }

    /// Parses the leading `x.y[.z]` of a release string.
    pub fn parse(text: &str) -> Option<Self> {
        let mut numbers = text.split(|c: char| !c.is_ascii_digit());
        let major = numbers.next()?.parse().ok()?;
        let minor = numbers.next()?.parse().ok()?;
        let patch = numbers.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some(KernelVersion {
            major,
            minor,
            patch,
        })
    }

    /// `LINUX_VERSION_CODE` (patch saturated at 255, as the kernel does).
    pub fn code(self) -> u32 {
        (self.major << 16) + (self.minor << 8) + self.patch.min(255)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions() {
        let v = KernelVersion::parse("6.1.76-1").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (6, 1, 76));
        assert_eq!(KernelVersion::parse("6.18").unwrap().patch, 0);
        assert_eq!(
            KernelVersion::parse("4.19.300").unwrap().code(),
            0x0004_13ff
        );
        assert!(KernelVersion::parse("x").is_none());
        assert!(KernelVersion::current().unwrap().major >= 4);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0\n"), Ok(vec![0]));
        assert_eq!(parse_cpu_list("0-3,5,7-8"), Ok(vec![0, 1, 2, 3, 5, 7, 8]));
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("x").is_err());
    }
}
