//! Perf event arrays: `BPF_MAP_TYPE_PERF_EVENT_ARRAY`, read per CPU through perf ring buffers.
//!
//! Each CPU gets a `PERF_COUNT_SW_BPF_OUTPUT` event whose ring (a metadata page, then a
//! power-of-two data area that records may wrap around) receives `bpf_perf_event_output`
//! samples. The event fd is stored at the CPU's index of the map. Samples are lent to a
//! callback straight from the ring (only a sample wrapping the ring's end is copied first), and
//! the ring's space goes back to the kernel once per drain. A [`PerfEventArrayBuffer`] is one
//! CPU's ring, usable on its own (a reader thread per CPU); [`PerfBuffer`](super::PerfBuffer)
//! polls every online CPU's together.

use std::borrow::{Borrow, BorrowMut};
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use bpf_sys::generated::{bpf_map_type, perf_event_sample_format, perf_sw_ids, perf_type_id};
use bpf_sys::perf_event::{PerfEventAttr, perf_event_enable, perf_event_open};
use bpf_sys::perf_ring::{PerfRecord, PerfRing};
use bpf_sys::pod::Pod;

use super::element::{check_index, update_fd};
use super::kind::check_map_type;
use super::map_data::syscall;
use super::record::{RecordSizeError, perf_padded_len, read_exact, read_prefix};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A perf event array; [`open`](Self::open) a buffer per CPU to receive its samples.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::{PerfBuffer, PerfEventArray};
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut array = PerfEventArray::try_from(bpf.take_map("events").unwrap())?;
/// let mut buffers = PerfBuffer::new(&mut array, 8)?; // 8 pages per online CPU
/// buffers.poll(
///     Some(Duration::from_millis(100)),
///     |cpu, sample| println!("CPU {cpu}: {} bytes", sample.len()),
///     |cpu, lost| eprintln!("CPU {cpu}: {lost} samples lost"),
/// )?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PerfEventArray<T> {
    inner: T,
}

impl<T: Borrow<MapData>> PerfEventArray<T> {
    /// Wraps a map after checking its type.
    pub fn new(inner: T) -> Result<Self, MapError> {
        check_map_type(inner.borrow(), bpf_map_type::BPF_MAP_TYPE_PERF_EVENT_ARRAY)?;
        Ok(PerfEventArray { inner })
    }
}

impl<T: BorrowMut<MapData>> PerfEventArray<T> {
    /// Opens the buffer of `cpu` with `page_count` data pages (a power of two) and stores its
    /// event in the map, so programs on that CPU write to it (`BPF_F_CURRENT_CPU`).
    pub fn open(&mut self, cpu: u32, page_count: usize) -> Result<PerfEventArrayBuffer, MapError> {
        let data = self.inner.borrow();
        check_index(data, cpu)?;
        if page_count == 0 || !page_count.is_power_of_two() {
            return Err(MapError::InvalidDefinition {
                name: data.name().to_owned(),
                reason: format!("perf buffer page count {page_count} is not a power of two"),
            });
        }
        let attr = PerfEventAttr {
            type_: perf_type_id::PERF_TYPE_SOFTWARE,
            config: u64::from(perf_sw_ids::PERF_COUNT_SW_BPF_OUTPUT),
            sample: 1,
            sample_type: u64::from(perf_event_sample_format::PERF_SAMPLE_RAW),
            wakeup: 1,
            ..PerfEventAttr::default()
        };
        let cpu_id = i32::try_from(cpu).unwrap_or(i32::MAX);
        let fd =
            perf_event_open(&attr, -1, cpu_id, None, 0).map_err(|e| syscall(data.name(), e))?;
        let ring = PerfRing::new(fd.as_fd(), page_count).map_err(|e| syscall(data.name(), e))?;
        perf_event_enable(fd.as_fd()).map_err(|e| syscall(data.name(), e))?;
        update_fd(data, &cpu, fd.as_fd(), 0)?;
        Ok(PerfEventArrayBuffer {
            name: data.name().to_owned(),
            cpu,
            fd,
            ring,
            lost: 0,
        })
    }
}

/// What one drain of a [`PerfEventArrayBuffer`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Events {
    /// Samples handed out (or appended to the output).
    pub read: usize,
    /// Samples the kernel dropped because the buffer was full.
    pub lost: u64,
}

/// One sample, lent from the perf ring: the bytes `bpf_perf_event_output` wrote, padded by the
/// kernel to a length 4 less than a multiple of 8 (12 for 8 bytes written, 68 for 64). The
/// padding bytes are not cleared: they hold whatever the ring held there before.
#[derive(Debug, Clone, Copy)]
pub struct PerfSample<'a> {
    bytes: &'a [u8],
}

impl<'a> PerfSample<'a> {
    /// The sample's bytes (padding included), for as long as it is lent.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The sample as a `T`; an error unless its length is `size_of::<T>()` padded as the
    /// kernel pads it (so a 24-byte and a 28-byte type both read a 28-byte sample).
    pub fn read<T: Pod>(&self) -> Result<T, RecordSizeError> {
        read_exact(self.bytes, perf_padded_len(size_of::<T>()))
    }

    /// The sample's leading bytes as a `T`; an error when it is shorter.
    pub fn read_prefix<T: Pod>(&self) -> Result<T, RecordSizeError> {
        read_prefix(self.bytes)
    }
}

impl Deref for PerfSample<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

/// One CPU's perf ring. Wait with [`wait`](Self::wait), or poll [`AsFd::as_fd`] yourself
/// (the event wakes its waiters at every sample).
#[derive(Debug)]
pub struct PerfEventArrayBuffer {
    name: String,
    cpu: u32,
    fd: OwnedFd,
    ring: PerfRing,
    lost: u64,
}

impl PerfEventArrayBuffer {
    /// The CPU whose samples this buffer receives.
    pub fn cpu(&self) -> u32 {
        self.cpu
    }

    /// True if samples (or a lost-samples record) are waiting. No syscall.
    #[inline]
    pub fn readable(&self) -> bool {
        self.ring.readable()
    }

    /// Samples this buffer's CPU dropped so far because the buffer was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Bytes of data area.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Hands every waiting sample to `on_sample` and every count of dropped ones to `on_lost`,
    /// in order, then frees their space at once. No syscall.
    #[inline]
    pub fn drain(
        &mut self,
        mut on_sample: impl FnMut(PerfSample<'_>),
        mut on_lost: impl FnMut(u64),
    ) -> Result<Events, MapError> {
        let mut events = Events::default();
        let drained = self.ring.drain(|record| match record {
            PerfRecord::Sample(bytes) => {
                events.read += 1;
                on_sample(PerfSample { bytes });
            }
            PerfRecord::Lost(count) => {
                events.lost += count;
                on_lost(count);
            }
            PerfRecord::Other(_) => {}
        });
        self.lost += events.lost;
        match drained {
            Ok(_) => Ok(events),
            Err(e) => Err(MapError::CorruptRecord {
                name: self.name.clone(),
                position: e.position,
            }),
        }
    }

    /// Appends every waiting sample to `out` (a copy each, for those who keep samples) and
    /// frees their space.
    pub fn read_events(&mut self, out: &mut Vec<Vec<u8>>) -> Result<Events, MapError> {
        self.drain(|sample| out.push(sample.to_vec()), |_| {})
    }

    /// Waits up to `timeout` (`None`: for as long as it takes) for a sample; false on timeout.
    /// Returns at once, without a syscall, when one is waiting.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, MapError> {
        if self.readable() {
            return Ok(true);
        }
        bpf_sys::epoll::wait_readable(self.fd.as_fd(), timeout).map_err(|source| MapError::Io {
            name: self.name.clone(),
            what: "waiting on a perf buffer",
            source,
        })
    }
}

impl AsFd for PerfEventArrayBuffer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PerfEventArrayBuffer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

map_wrapper!(PerfEventArray);
