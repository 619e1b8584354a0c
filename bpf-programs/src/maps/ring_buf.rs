//! Ring buffers: `BPF_MAP_TYPE_RINGBUF`, read in place from the memory the kernel shares.
//!
//! Records are handed out as slices of the mapped ring (no copy), in the order programs
//! committed them; discarded records are skipped and records that wrap the ring's end read as
//! one slice (the kernel maps the data area twice). The consumer position goes back to the
//! kernel once per batch, not per record. Three ways to read, all equally fast:
//!
//! ```no_run
//! # use bpf_programs::maps::{MapError, RingBuf};
//! # fn f(mut ring: RingBuf<bpf_programs::maps::MapData>) -> Result<(), Box<dyn std::error::Error>> {
//! # use std::time::Duration;
//! // A callback over everything ready, or wait up to 100 ms first when nothing is (`poll`).
//! ring.drain(|record| println!("{} bytes", record.len()))?;
//! ring.poll(Some(Duration::from_millis(100)), |record| println!("{} bytes", record.len()))?;
//! // One at a time: each record is lent until the next call.
//! while let Some(record) = ring.next() {
//!     let seq: u64 = record.read()?; // exactly 8 bytes, or an error
//! }
//! // A batch whose records all live until it ends, so iterator adaptors work.
//! let sizes: Vec<usize> = ring.records().iter().map(|r| r.len()).collect();
//! # Ok(()) }
//! ```
//!
//! A ring buffer reader is its map's only reader in the process: it is made from an owned or
//! mutably borrowed map (`Map`, `&mut Map`), never from `&Map`.

use std::borrow::BorrowMut;
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::Pod;
use bpf_sys::ring_buf::{CorruptRecord, RingBatch, RingBufConsumer};

use super::kind::check_map_type;
use super::map_data::syscall;
use super::record::{RecordSizeError, read_exact, read_prefix, read_slice};
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A ring buffer's consumer side. Wait with [`wait`](Self::wait) or [`poll`](Self::poll), or
/// register [`AsFd::as_fd`] with your own epoll/poll (a reader that drained everything is
/// woken at the next commit).
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
///     let pid: u32 = record.read()?; // a Pod type of exactly the record's size
///     println!("{pid}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RingBuf<T> {
    inner: T,
    ring: RingBufConsumer,
}

/// One record, lent from the mapped ring; its space goes back to the producer after it.
#[derive(Debug, Clone, Copy)]
pub struct RingBufItem<'a> {
    bytes: &'a [u8],
}

impl<'a> RingBufItem<'a> {
    /// The record's bytes, for as long as the record is lent.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The record as a `T`; an error unless it is exactly `size_of::<T>()` bytes.
    pub fn read<T: Pod>(&self) -> Result<T, RecordSizeError> {
        read_exact(self.bytes, size_of::<T>())
    }

    /// The record's leading bytes as a `T` (a fixed header before variable data); an error
    /// when the record is shorter.
    pub fn read_prefix<T: Pod>(&self) -> Result<T, RecordSizeError> {
        read_prefix(self.bytes)
    }

    /// The record as consecutive `T`s; an error unless its length is a multiple of `T`'s.
    pub fn read_slice<T: Pod>(&self) -> Result<Vec<T>, RecordSizeError> {
        read_slice(self.bytes)
    }
}

impl Deref for RingBufItem<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl<T: BorrowMut<MapData>> RingBuf<T> {
    /// Maps the ring buffer's pages after checking its type.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_RINGBUF)?;
        let size = u64::from(data.max_entries());
        if size == 0 || !size.is_power_of_two() {
            return Err(MapError::InvalidDefinition {
                name: data.name().to_owned(),
                reason: format!("ring buffer size {size} is not a power of two"),
            });
        }
        let ring = RingBufConsumer::new(data.fd(), size).map_err(|e| syscall(data.name(), e))?;
        Ok(RingBuf { inner, ring })
    }

    /// The next record, or `None` when none is ready; a corrupt ring is logged and read as
    /// empty ([`try_next`](Self::try_next) reports it).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<RingBufItem<'_>> {
        match self.ring.next_record() {
            Ok(bytes) => bytes.map(|bytes| RingBufItem { bytes }),
            Err(e) => {
                log::warn!("{}", corrupt(self.inner.borrow(), e));
                None
            }
        }
    }

    /// The next record, or `None` when none is ready. The record is lent until the next call;
    /// the space of the records read goes back to the producer when the ring runs dry (and
    /// every quarter of the ring, at most 64 KiB, before that).
    #[inline]
    pub fn try_next(&mut self) -> Result<Option<RingBufItem<'_>>, MapError> {
        match self.ring.next_record() {
            Ok(bytes) => Ok(bytes.map(|bytes| RingBufItem { bytes })),
            Err(e) => Err(corrupt(self.inner.borrow(), e)),
        }
    }

    /// The record that [`is_drained`](Self::is_drained) returning false promised.
    #[cfg(feature = "tokio")]
    pub(crate) fn next_ready(&mut self) -> Result<RingBufItem<'_>, MapError> {
        match self.ring.next_record() {
            Ok(Some(bytes)) => Ok(RingBufItem { bytes }),
            // Nothing else reads this ring, so the record seen cannot have gone.
            Ok(None) => Err(corrupt(self.inner.borrow(), CorruptRecord { position: 0 })),
            Err(e) => Err(corrupt(self.inner.borrow(), e)),
        }
    }

    /// The next record copied out, for those who keep records; `None` when none is ready.
    pub fn next_owned(&mut self) -> Result<Option<Vec<u8>>, MapError> {
        Ok(self.try_next()?.map(|record| record.to_vec()))
    }

    /// Hands every ready record to `f`, in order, records committed meanwhile included;
    /// returns how many. No syscall.
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(RingBufItem<'_>)) -> Result<usize, MapError> {
        match self.ring.drain(|bytes| f(RingBufItem { bytes })) {
            Ok(count) => Ok(count),
            Err(e) => Err(corrupt(self.inner.borrow(), e)),
        }
    }

    /// Like [`drain`](Self::drain), but when nothing is ready waits up to `timeout` (`None`:
    /// until something is) first: libbpf's `ring_buffer__poll`, without its syscall when data
    /// is already there. Returns how many records were handled (0: timed out).
    #[inline]
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut f: impl FnMut(RingBufItem<'_>),
    ) -> Result<usize, MapError> {
        // The drain inline (the caller's closure stays in registers), the waiting apart.
        let count = self.drain(&mut f)?;
        if count > 0 {
            return Ok(count);
        }
        self.wait_then_drain(timeout, f)
    }

    /// `poll` once nothing was ready.
    fn wait_then_drain(
        &mut self,
        timeout: Option<Duration>,
        mut f: impl FnMut(RingBufItem<'_>),
    ) -> Result<usize, MapError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) || !self.wait(left)? {
                return Ok(0);
            }
            let count = self.drain(&mut f)?;
            if count > 0 {
                return Ok(count);
            }
        }
    }

    /// The records ready now, lent together until the returned batch is dropped; iterate it
    /// with `.iter()` or `for record in &batch`. Their space goes back to the producer when the
    /// batch ends.
    pub fn records(&mut self) -> Records<'_> {
        Records {
            name: self.inner.borrow().name(),
            batch: self.ring.batch(),
        }
    }

    /// Waits up to `timeout` (`None`: for as long as it takes) for a record; false on timeout.
    /// Returns at once, without a syscall, when one is ready.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, MapError> {
        if !self.ring.is_drained() {
            return Ok(true);
        }
        let data = self.inner.borrow();
        bpf_sys::epoll::wait_readable(data.fd(), timeout).map_err(|source| MapError::Io {
            name: data.name().to_owned(),
            what: "waiting on the ring buffer",
            source,
        })
    }

    /// Gives the space of the records read back to the producer now, and tells whether none
    /// is ready. Needed only before waiting on [`AsFd::as_fd`] with your own epoll after
    /// reading with [`records`](Self::records) (the other reads do it themselves): the kernel
    /// wakes a reader only at a record committed where the reader's published position is.
    pub fn is_drained(&mut self) -> bool {
        self.ring.is_drained()
    }

    /// Bytes of data area (`max_entries`).
    pub fn capacity(&self) -> u64 {
        self.ring.capacity()
    }
}

fn corrupt(data: &MapData, e: CorruptRecord) -> MapError {
    MapError::CorruptRecord {
        name: data.name().to_owned(),
        position: e.position,
    }
}

/// A batch of records lent together by [`RingBuf::records`].
#[derive(Debug)]
pub struct Records<'a> {
    name: &'a str,
    batch: RingBatch<'a>,
}

impl<'a> Records<'a> {
    /// The batch's records in order (ready when it was made, or committed since).
    pub fn iter(&self) -> RecordsIter<'_, 'a> {
        RecordsIter {
            name: self.name,
            batch: &self.batch,
        }
    }
}

impl<'b, 'a> IntoIterator for &'b Records<'a> {
    type Item = RingBufItem<'b>;
    type IntoIter = RecordsIter<'b, 'a>;
    fn into_iter(self) -> RecordsIter<'b, 'a> {
        self.iter()
    }
}

/// The iterator of a [`Records`] batch; a corrupt ring is logged and ends it.
#[derive(Debug)]
pub struct RecordsIter<'b, 'a> {
    name: &'b str,
    batch: &'b RingBatch<'a>,
}

impl<'b> Iterator for RecordsIter<'b, '_> {
    type Item = RingBufItem<'b>;

    #[inline]
    fn next(&mut self) -> Option<RingBufItem<'b>> {
        match self.batch.next_record() {
            Ok(bytes) => bytes.map(|bytes| RingBufItem { bytes }),
            Err(e) => {
                log::warn!(
                    "{}",
                    MapError::CorruptRecord {
                        name: self.name.to_owned(),
                        position: e.position,
                    }
                );
                None
            }
        }
    }
}

impl<T: std::borrow::Borrow<MapData>> AsFd for RingBuf<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.borrow().fd()
    }
}

impl<T: std::borrow::Borrow<MapData>> AsRawFd for RingBuf<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

map_wrapper!(exclusive RingBuf);
