//! Ring buffers: `BPF_MAP_TYPE_RINGBUF`, read from user space through shared memory.
//!
//! Layout: a consumer page (writable by us) holding `consumer_pos`, then a producer page
//! holding `producer_pos`, then the data area mapped twice so no record wraps. Each record
//! starts with an 8-byte header: a 32-bit length with BUSY (not yet committed) and DISCARD
//! bits, then the page offset. Records are 8-byte aligned.

use std::borrow::Borrow;
use std::ops::Deref;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::Ordering;

use bpf_sys::generated::bpf_map_type;
use bpf_sys::mmap::MmapRegion;
use bpf_sys::util::page_size;

use super::checks::check_type;
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

const BUSY_BIT: u32 = 1 << 31;
const DISCARD_BIT: u32 = 1 << 30;
const HEADER_LEN: u64 = 8;

/// A ring buffer's consumer side. Poll [`AsFd::as_fd`] (epoll/poll) to wait for records.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::RingBuf;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut events = RingBuf::try_from(bpf.take_map("events").unwrap())?;
/// events.wait(Some(Duration::from_millis(100)))?; // or epoll its fd
/// while let Some(record) = events.next() {
///     let pid: Option<u32> = record.read(); // a Pod type of the record's size
///     println!("{pid:?}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RingBuf<T> {
    inner: T,
    consumer: MmapRegion,
    producer: MmapRegion,
    data_offset: usize,
    mask: u64,
    consumer_pos: u64,
    record: Vec<u8>,
}

/// One record, valid until the next call to [`RingBuf::next`]; its space is released then.
#[derive(Debug)]
pub struct RingBufItem<'a> {
    bytes: &'a [u8],
}

impl RingBufItem<'_> {
    /// The record's leading bytes as a `T`; `None` when the record is shorter than `T`.
    pub fn read<T: bpf_sys::pod::Pod>(&self) -> Option<T> {
        bpf_sys::pod::read(self.bytes)
    }
}

impl Deref for RingBufItem<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl<T: Borrow<MapData>> RingBuf<T> {
    /// Maps the ring buffer's pages after checking its type.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_type(
            data,
            &[bpf_map_type::BPF_MAP_TYPE_RINGBUF],
            "BPF_MAP_TYPE_RINGBUF",
        )?;
        let page = page_size();
        let size = data.max_entries() as usize;
        if size == 0 || !size.is_power_of_two() {
            return Err(MapError::InvalidDefinition {
                name: data.name().to_owned(),
                reason: format!("ring buffer size {size} is not a power of two"),
            });
        }
        let consumer =
            MmapRegion::new(data.fd(), page, 0, true).map_err(|e| syscall(data.name(), e))?;
        let producer = MmapRegion::new(data.fd(), page + 2 * size, page, false)
            .map_err(|e| syscall(data.name(), e))?;
        let consumer_pos = consumer.load_u64(0, Ordering::Acquire).unwrap_or(0);
        Ok(RingBuf {
            inner,
            consumer,
            producer,
            data_offset: page,
            mask: size as u64 - 1,
            consumer_pos,
            record: Vec::new(),
        })
    }

    /// Waits up to `timeout` (`None`: until one arrives) for a record; false on timeout.
    pub fn wait(&self, timeout: Option<std::time::Duration>) -> Result<bool, MapError> {
        let data = self.inner.borrow();
        bpf_sys::epoll::wait_readable(data.fd(), timeout).map_err(|source| MapError::Io {
            name: data.name().to_owned(),
            what: "waiting on the ring buffer",
            source,
        })
    }

    /// The next committed record, or `None` when the buffer is drained for now.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<RingBufItem<'_>> {
        match self.try_next() {
            Ok(item) => item,
            Err(e) => {
                log::warn!("{e}");
                None
            }
        }
    }

    /// Like [`next`](Self::next), reporting a corrupt header as an error.
    pub fn try_next(&mut self) -> Result<Option<RingBufItem<'_>>, MapError> {
        loop {
            let producer_pos = self.producer.load_u64(0, Ordering::Acquire).unwrap_or(0);
            if self.consumer_pos >= producer_pos {
                return Ok(None);
            }
            let header_at = self.data_offset + (self.consumer_pos & self.mask) as usize;
            let corrupt = || MapError::CorruptRecord {
                name: self.inner.borrow().name().to_owned(),
                position: self.consumer_pos,
            };
            let header = self
                .producer
                .load_u32(header_at, Ordering::Acquire)
                .ok_or_else(corrupt)?;
            if header & BUSY_BIT != 0 {
                return Ok(None);
            }
            let len = u64::from(header & !(BUSY_BIT | DISCARD_BIT));
            let total = (len + HEADER_LEN).next_multiple_of(8);
            if total > self.mask + 1 {
                return Err(corrupt());
            }
            let discarded = header & DISCARD_BIT != 0;
            if !discarded {
                self.record.resize(len as usize, 0);
                self.producer
                    .read(header_at + HEADER_LEN as usize, &mut self.record)
                    .ok_or_else(corrupt)?;
            }
            // The record is copied out, so its space can go back to the producer at once.
            self.consumer_pos += total;
            self.consumer
                .store_u64(0, self.consumer_pos, Ordering::Release);
            if !discarded {
                return Ok(Some(RingBufItem {
                    bytes: &self.record,
                }));
            }
        }
    }

    /// Bytes of data area (`max_entries`).
    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }
}

impl<T: Borrow<MapData>> AsFd for RingBuf<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.borrow().fd()
    }
}

map_wrapper!(RingBuf);
