//! perf_event_open(2), the perf ioctls BPF needs, and PMU facts from sysfs/tracefs.

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::error::{Command, PerfEventIoctl, SyscallError};
use crate::generated::{PERF_FLAG_FD_CLOEXEC, perf_event_attr, perf_event_query_bpf};

// The ioctl numbers are macros in the UAPI header, so bindgen does not see them; these are
// the generic _IO/_IOW/_IOWR encodings, the same on x86_64 and aarch64.
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
const PERF_EVENT_IOC_QUERY_BPF: libc::c_ulong = 0xc008_240a;

bitflags::bitflags! {
    /// The single-bit options of `perf_event_attr`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct PerfEventFlags: u32 {
        /// Start disabled; enable with [`perf_event_enable`].
        const DISABLED = 1 << 0;
        /// Children inherit the event.
        const INHERIT = 1 << 1;
        /// Don't count user space.
        const EXCLUDE_USER = 1 << 2;
        /// Don't count the kernel.
        const EXCLUDE_KERNEL = 1 << 3;
        /// Don't count the hypervisor.
        const EXCLUDE_HV = 1 << 4;
        /// Don't count when idle.
        const EXCLUDE_IDLE = 1 << 5;
        /// `sample` is a frequency (Hz), not a period.
        const FREQ = 1 << 6;
        /// `wakeup` counts bytes, not events.
        const WATERMARK = 1 << 7;
        /// Enable on the next exec.
        const ENABLE_ON_EXEC = 1 << 8;
        /// Add sample id fields to all records.
        const SAMPLE_ID_ALL = 1 << 9;
    }
}

/// A `config1`/`config2` value: a number, or a string pointer the kprobe/uprobe PMUs read.
#[derive(Debug, Clone, Copy)]
pub enum PerfConfig<'a> {
    /// A plain number (offset, address, breakpoint length, …).
    Value(u64),
    /// A NUL-terminated string (kprobe function, uprobe path), kept alive by the borrow.
    String(&'a CStr),
}

impl Default for PerfConfig<'_> {
    fn default() -> Self {
        PerfConfig::Value(0)
    }
}

impl PerfConfig<'_> {
    fn raw(self) -> u64 {
        match self {
            PerfConfig::Value(v) => v,
            PerfConfig::String(s) => s.as_ptr() as u64,
        }
    }
}

/// The fields of `perf_event_attr` a BPF loader sets.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerfEventAttr<'a> {
    /// `perf_type_id::PERF_TYPE_*` or a dynamic PMU type from [`pmu_type`].
    pub type_: u32,
    /// Event selector (tracepoint id, `PERF_COUNT_SW_*`, retprobe bit, …).
    pub config: u64,
    /// Sample period, or frequency with [`PerfEventFlags::FREQ`].
    pub sample: u64,
    /// `perf_event_sample_format::PERF_SAMPLE_*` bits.
    pub sample_type: u64,
    /// Wake up after this many events (bytes with [`PerfEventFlags::WATERMARK`]).
    pub wakeup: u32,
    /// Bit options.
    pub flags: PerfEventFlags,
    /// `PERF_FORMAT_*` bits for reading counts.
    pub read_format: u64,
    /// `HW_BREAKPOINT_*` access type for breakpoint events (address in `config1`, length in `config2`).
    pub bp_type: u32,
    /// `config1`: kprobe function / uprobe path / extra config.
    pub config1: PerfConfig<'a>,
    /// `config2`: probe offset or address / extra config.
    pub config2: PerfConfig<'a>,
}

impl PerfEventAttr<'_> {
    fn to_raw(self) -> MaybeUninit<perf_event_attr> {
        let mut raw = MaybeUninit::<perf_event_attr>::zeroed();
        // SAFETY: perf_event_attr is plain data for which all-zero is valid.
        let a = unsafe { raw.assume_init_mut() };
        a.type_ = self.type_;
        a.size = size_of::<perf_event_attr>() as u32;
        a.config = self.config;
        a.__bindgen_anon_1.sample_period = self.sample;
        a.sample_type = self.sample_type;
        a.read_format = self.read_format;
        a.bp_type = self.bp_type;
        a.__bindgen_anon_2.wakeup_events = self.wakeup;
        a.__bindgen_anon_3.config1 = self.config1.raw();
        a.__bindgen_anon_4.config2 = self.config2.raw();
        let f = self.flags;
        let bit = |flag| u64::from(f.contains(flag));
        a.set_disabled(bit(PerfEventFlags::DISABLED));
        a.set_inherit(bit(PerfEventFlags::INHERIT));
        a.set_exclude_user(bit(PerfEventFlags::EXCLUDE_USER));
        a.set_exclude_kernel(bit(PerfEventFlags::EXCLUDE_KERNEL));
        a.set_exclude_hv(bit(PerfEventFlags::EXCLUDE_HV));
        a.set_exclude_idle(bit(PerfEventFlags::EXCLUDE_IDLE));
        a.set_freq(bit(PerfEventFlags::FREQ));
        a.set_watermark(bit(PerfEventFlags::WATERMARK));
        a.set_enable_on_exec(bit(PerfEventFlags::ENABLE_ON_EXEC));
        a.set_sample_id_all(bit(PerfEventFlags::SAMPLE_ID_ALL));
        raw
    }
}

/// Opens a perf event for `pid` (-1: any) on `cpu` (-1: any); the fd is close-on-exec.
pub fn perf_event_open(
    attr: &PerfEventAttr<'_>,
    pid: i32,
    cpu: i32,
    group_fd: Option<BorrowedFd<'_>>,
    flags: u32,
) -> Result<OwnedFd, SyscallError> {
    let raw = attr.to_raw();
    let group = group_fd.map_or(-1, |fd| fd.as_raw_fd());
    // SAFETY: `raw` is a fully initialised perf_event_attr whose size field matches; string
    // pointers in config1/config2 are borrowed by `attr` and outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            raw.as_ptr(),
            pid,
            cpu,
            group,
            (flags | PERF_FLAG_FD_CLOEXEC) as libc::c_ulong,
        )
    };
    if ret < 0 {
        return Err(SyscallError::last_os_error(Command::PerfEventOpen));
    }
    let fd = i32::try_from(ret)
        .map_err(|_| SyscallError::from_errno(Command::PerfEventOpen, libc::EBADF))?;
    // SAFETY: the kernel just returned this fd to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ioctl(
    fd: BorrowedFd<'_>,
    which: PerfEventIoctl,
    request: libc::c_ulong,
    arg: libc::c_ulong,
) -> Result<(), SyscallError> {
    // SAFETY: `request` is a perf ioctl whose argument is either an integer or a pointer the
    // caller keeps alive for the duration of the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg) };
    if ret < 0 {
        return Err(SyscallError::last_os_error(Command::PerfEventIoctl(which)));
    }
    Ok(())
}

/// Starts counting / firing.
pub fn perf_event_enable(fd: BorrowedFd<'_>) -> Result<(), SyscallError> {
    ioctl(fd, PerfEventIoctl::Enable, PERF_EVENT_IOC_ENABLE, 0)
}

/// Stops counting / firing.
pub fn perf_event_disable(fd: BorrowedFd<'_>) -> Result<(), SyscallError> {
    ioctl(fd, PerfEventIoctl::Disable, PERF_EVENT_IOC_DISABLE, 0)
}

/// Attaches `prog_fd` to the perf event (kprobe/uprobe/tracepoint/perf_event programs).
pub fn perf_event_set_bpf(fd: BorrowedFd<'_>, prog_fd: BorrowedFd<'_>) -> Result<(), SyscallError> {
    ioctl(
        fd,
        PerfEventIoctl::SetBpf,
        PERF_EVENT_IOC_SET_BPF,
        prog_fd.as_raw_fd() as libc::c_ulong,
    )
}

/// Ids of the programs attached to a tracepoint/kprobe/uprobe perf event.
pub fn perf_event_query_bpf(fd: BorrowedFd<'_>) -> Result<Vec<u32>, SyscallError> {
    let mut capacity = 64usize;
    loop {
        // A header followed by `capacity` u32 ids, as u32 words so alignment is right.
        let words = size_of::<perf_event_query_bpf>() / 4 + capacity;
        let mut buf = vec![0u32; words];
        buf[0] = capacity as u32;
        let result = ioctl(
            fd,
            PerfEventIoctl::QueryBpf,
            PERF_EVENT_IOC_QUERY_BPF,
            buf.as_mut_ptr() as libc::c_ulong,
        );
        let count = buf[1] as usize;
        match result {
            Err(e) if e.errno() == Some(libc::ENOSPC) && count > capacity => capacity = count,
            Err(e) => return Err(e),
            Ok(()) => {
                let start = size_of::<perf_event_query_bpf>() / 4;
                let ids = buf
                    .get(start..start + count.min(capacity))
                    .unwrap_or_default();
                return Ok(ids.to_vec());
            }
        }
    }
}

/// The dynamic type id of a PMU, from `/sys/bus/event_source/devices/<pmu>/type`.
pub fn pmu_type(pmu: &str) -> io::Result<u32> {
    let path = format!("/sys/bus/event_source/devices/{pmu}/type");
    let text = std::fs::read_to_string(&path)?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {text:?}")))
}

/// The `config` bit that makes a kprobe/uprobe PMU event a return probe (`format/retprobe`).
pub fn pmu_retprobe_bit(pmu: &str) -> io::Result<u32> {
    let path = format!("/sys/bus/event_source/devices/{pmu}/format/retprobe");
    let text = std::fs::read_to_string(&path)?;
    parse_config_bit(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {text:?}")))
}

/// Parses a PMU format line such as `config:0`.
fn parse_config_bit(text: &str) -> Option<u32> {
    text.trim().strip_prefix("config:")?.parse().ok()
}

/// The perf tracepoint id of `category/name`, read from `tracefs` (the mount point of a
/// tracefs, e.g. `/sys/kernel/tracing`).
pub fn tracepoint_id(tracefs: &Path, category: &str, name: &str) -> io::Result<u64> {
    let path = tracefs.join("events").join(category).join(name).join("id");
    let text = std::fs::read_to_string(&path)?;
    text.trim().parse().map_err(|_| {
        let message = format!("{}: {text:?}", path.display());
        io::Error::new(io::ErrorKind::InvalidData, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_bits() {
        assert_eq!(parse_config_bit("config:0\n"), Some(0));
        assert_eq!(parse_config_bit("config:63"), Some(63));
        assert_eq!(parse_config_bit("config1:0"), None);
    }

    #[test]
    fn attr_sets_bits_and_size() {
        let attr = PerfEventAttr {
            flags: PerfEventFlags::DISABLED | PerfEventFlags::FREQ,
            ..Default::default()
        };
        // SAFETY: to_raw initialises every byte.
        let raw = unsafe { attr.to_raw().assume_init() };
        assert_eq!(raw.size as usize, size_of::<perf_event_attr>());
        assert_eq!((raw.disabled(), raw.freq(), raw.inherit()), (1, 1, 0));
    }
}
