//! Perf event arrays: `BPF_MAP_TYPE_PERF_EVENT_ARRAY`, read per CPU through perf ring buffers.
//!
//! Each CPU gets a `PERF_COUNT_SW_BPF_OUTPUT` event whose ring (a metadata page, then a
//! power-of-two data area that records may wrap around) receives `bpf_perf_event_output`
//! samples. The event fd is stored at the CPU's index of the map.

use std::borrow::{Borrow, BorrowMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;

use bpf_sys::generated::{
    bpf_map_type, perf_event_sample_format, perf_event_type, perf_sw_ids, perf_type_id,
};
use bpf_sys::mmap::MmapRegion;
use bpf_sys::perf_event::{PerfEventAttr, perf_event_enable, perf_event_open};
use bpf_sys::util::page_size;

use super::checks::{check_index, check_type, update_fd};
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// `data_head` and `data_tail` in `struct perf_event_mmap_page`.
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;

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
        check_type(
            inner.borrow(),
            &[bpf_map_type::BPF_MAP_TYPE_PERF_EVENT_ARRAY],
            "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
        )?;
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
        let page = page_size();
        let region = MmapRegion::new(fd.as_fd(), page * (1 + page_count), 0, true)
            .map_err(|e| syscall(data.name(), e))?;
        perf_event_enable(fd.as_fd()).map_err(|e| syscall(data.name(), e))?;
        update_fd(data, &cpu, fd.as_fd(), 0)?;
        let tail = region.load_u64(DATA_TAIL, Ordering::Acquire).unwrap_or(0);
        Ok(PerfEventArrayBuffer {
            name: data.name().to_owned(),
            fd,
            region,
            data_offset: page,
            data_size: (page * page_count) as u64,
            tail,
            scratch: Vec::new(),
        })
    }
}

/// What one [`PerfEventArrayBuffer::read_events`] call found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Events {
    /// Samples appended to the output.
    pub read: usize,
    /// Samples the kernel dropped because the buffer was full.
    pub lost: u64,
}

/// One CPU's perf ring. Poll [`AsFd::as_fd`] to wait for samples.
#[derive(Debug)]
pub struct PerfEventArrayBuffer {
    name: String,
    fd: OwnedFd,
    region: MmapRegion,
    data_offset: usize,
    data_size: u64,
    tail: u64,
    scratch: Vec<u8>,
}

impl PerfEventArrayBuffer {
    /// True if samples are waiting.
    pub fn readable(&self) -> bool {
        self.region
            .load_u64(DATA_HEAD, Ordering::Acquire)
            .unwrap_or(0)
            != self.tail
    }

    /// Appends every waiting sample to `out` (one `Vec<u8>` each) and frees their space.
    pub fn read_events(&mut self, out: &mut Vec<Vec<u8>>) -> Result<Events, MapError> {
        let head = self
            .region
            .load_u64(DATA_HEAD, Ordering::Acquire)
            .unwrap_or(0);
        let mut events = Events::default();
        while self.tail < head {
            let mut header = [0u8; 8];
            self.read_wrapped(self.tail, &mut header)?;
            let kind = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
            let size = u64::from(u16::from_ne_bytes([header[6], header[7]]));
            if size < 8 || size > self.data_size {
                return Err(self.corrupt());
            }
            let mut body = std::mem::take(&mut self.scratch);
            body.resize(size as usize - 8, 0);
            self.read_wrapped(self.tail + 8, &mut body)?;
            match kind {
                perf_event_type::PERF_RECORD_SAMPLE => {
                    let len = body
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .map(u32::from_ne_bytes)
                        .ok_or_else(|| self.corrupt())?;
                    let sample = body
                        .get(4..4 + len as usize)
                        .ok_or_else(|| self.corrupt())?;
                    out.push(sample.to_vec());
                    events.read += 1;
                }
                perf_event_type::PERF_RECORD_LOST => {
                    let lost = body
                        .get(8..16)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_ne_bytes)
                        .unwrap_or(0);
                    events.lost += lost;
                }
                _ => {}
            }
            self.scratch = body;
            self.tail += size;
        }
        self.region
            .store_u64(DATA_TAIL, self.tail, Ordering::Release)
            .ok_or_else(|| self.corrupt())?;
        Ok(events)
    }

    /// Copies `out.len()` bytes from ring position `pos`, across the wrap if needed.
    fn read_wrapped(&self, pos: u64, out: &mut [u8]) -> Result<(), MapError> {
        let start = (pos % self.data_size) as usize;
        let first = out.len().min(self.data_size as usize - start);
        let (a, b) = out.split_at_mut(first);
        self.region
            .read(self.data_offset + start, a)
            .ok_or_else(|| self.corrupt())?;
        if !b.is_empty() {
            self.region
                .read(self.data_offset, b)
                .ok_or_else(|| self.corrupt())?;
        }
        Ok(())
    }

    fn corrupt(&self) -> MapError {
        MapError::CorruptRecord {
            name: self.name.clone(),
            position: self.tail,
        }
    }
}

impl AsFd for PerfEventArrayBuffer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

map_wrapper!(PerfEventArray);
