//! The shared memory of a BPF ring buffer (`BPF_MAP_TYPE_RINGBUF`), read in place.
//!
//! Layout (kernel/bpf/ringbuf.c): page 0 holds `consumer_pos`, written by user space; page 1
//! holds `producer_pos`, written by the kernel; then comes the data area of `max_entries` bytes,
//! mapped twice in a row so that a record wrapping the end reads as one slice. Each record is an
//! 8-byte header (a `u32` length carrying the BUSY and DISCARD bits, then a page offset the
//! kernel keeps for itself) followed by the data, padded to 8 bytes.
//!
//! Why records can be lent out: the kernel commits a record by clearing BUSY (a full barrier)
//! and never touches it again until `consumer_pos` moves past it. This module stores
//! `consumer_pos` only through `&mut self` (or when a [`RingBatch`] ends), which no slice it
//! handed out can outlive.

use std::cell::Cell;
use std::fmt;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use crate::error::SyscallError;
use crate::mmap::MmapRegion;
use crate::util::page_size;

// `BPF_RINGBUF_*` of an anonymous UAPI enum, whose generated module name is not stable.
pub(crate) const BUSY_BIT: u32 = 1 << 31;
pub(crate) const DISCARD_BIT: u32 = 1 << 30;
pub(crate) const HEADER_LEN: u64 = 8;

/// The longest a published position may lag behind the records read: the producer sees the
/// space of records already read only once it is published.
const MAX_PUBLISH_LAG: u64 = 64 * 1024;

/// A record header or position that the kernel could not have written (another process
/// writing the consumer page, or memory corruption). The ring cannot be read past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptRecord {
    /// The ring position (bytes since the ring's creation) of the record.
    pub position: u64,
}

impl fmt::Display for CorruptRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt record at ring position {}", self.position)
    }
}

impl std::error::Error for CorruptRecord {}

/// A record's space as the header describes it.
pub(crate) fn record_span(len: u64) -> u64 {
    (len + HEADER_LEN).next_multiple_of(8)
}

/// A `size`-byte data area must be a power of two and a page multiple (the kernel insists).
pub(crate) fn check_ring_size(size: u64) -> Result<(), SyscallError> {
    if size == 0 || !size.is_power_of_two() || !size.is_multiple_of(page_size() as u64) {
        return Err(SyscallError::from_errno(crate::Command::Mmap, libc::EINVAL));
    }
    Ok(())
}

/// Where the header at a position says the next record starts.
enum Header {
    /// Reserved, not yet committed: the producer is still writing it.
    Busy,
    /// Committed: `len` data bytes after the header at `offset` (inside the first copy of the
    /// data area); `next` is the following record's position.
    Committed {
        offset: usize,
        len: usize,
        discarded: bool,
        next: u64,
    },
}

/// The header the next record is expected to have: the last record's (fixed-size events
/// repeat it), with its span.
///
/// Why: each record's position comes from the previous record's header, so a reader that
/// waits for each header before it can address the next one runs at the speed of one load
/// after another. Comparing the header with the expected one instead, and moving by the span
/// held in a register when they are equal, turns that wait into a branch the CPU predicts:
/// it reads the following headers before this one has arrived.
#[derive(Debug, Clone, Copy)]
struct Prediction {
    header: u32,
    span: u64,
}

impl Prediction {
    /// A header the kernel never writes (it sets DISCARD only as it clears BUSY), which would
    /// read as an empty record, were it ever there.
    const NONE: Prediction = Prediction {
        header: BUSY_BIT | DISCARD_BIT,
        span: HEADER_LEN,
    };

    /// The prediction that the next record is like the committed one of `len` bytes.
    fn like(len: usize) -> Prediction {
        Prediction {
            // Committed and kept: the header is the length alone.
            header: len as u32,
            span: record_span(len as u64),
        }
    }

    /// The data length of a record with the predicted header.
    #[inline(always)]
    fn len(self) -> usize {
        (self.header & !(BUSY_BIT | DISCARD_BIT)) as usize
    }
}

/// What `RingBufConsumer::drain` does at a header other than the predicted one.
enum Step {
    /// Predict this header: a committed record of a new length.
    Predict(Prediction),
    /// Skip a discarded record: the position after it.
    Skip(u64),
    /// The producer is still writing the record.
    Busy,
    Corrupt,
}

/// The consumer side of one ring buffer: its pages mapped, a read position, and the position
/// last published to the kernel.
#[derive(Debug)]
pub struct RingBufConsumer {
    consumer: MmapRegion,
    /// The producer page followed by the data area, twice.
    producer: MmapRegion,
    mask: u64,
    /// The next record to read.
    pos: u64,
    /// What `consumer_pos` holds.
    published: u64,
    /// `producer_pos` as last loaded: records before it are reserved, maybe committed.
    limit: u64,
    /// Where `next_record` stops taking predicted records without a look at the rest:
    /// `limit`, or sooner where a publication is due. Kept up to date only by
    /// `next_record_unpredicted`; elsewhere it may lag behind (`limit` and `published` only
    /// grow), which sends `next_record` the long way one more time.
    fast_end: u64,
    publish_lag: u64,
    /// Where the data area starts in `producer`.
    page: usize,
    prediction: Prediction,
}

impl RingBufConsumer {
    /// Maps the ring buffer `fd` whose data area is `size` bytes (`max_entries`).
    pub fn new(fd: BorrowedFd<'_>, size: u64) -> Result<Self, SyscallError> {
        check_ring_size(size)?;
        let page = page_size();
        let consumer = MmapRegion::new(fd, page, 0, true)?;
        let len = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_mul(2)?.checked_add(page))
            .ok_or_else(|| SyscallError::from_errno(crate::Command::Mmap, libc::E2BIG))?;
        let producer = MmapRegion::new(fd, len, page, false)?;
        let mut ring = RingBufConsumer {
            consumer,
            producer,
            mask: size - 1,
            pos: 0,
            published: 0,
            limit: 0,
            fast_end: 0,
            publish_lag: (size / 4).clamp(8, MAX_PUBLISH_LAG),
            page,
            prediction: Prediction::NONE,
        };
        let start = ring.consumer_word().load(Ordering::Acquire);
        if !start.is_multiple_of(8) {
            return Err(SyscallError::from_errno(crate::Command::Mmap, libc::EINVAL));
        }
        ring.pos = start;
        ring.published = start;
        ring.limit = start;
        Ok(ring)
    }

    /// Bytes of data area.
    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    fn consumer_word(&self) -> &AtomicU64 {
        // SAFETY: `consumer_pos` is the first, 8-aligned word of the live consumer mapping
        // (page aligned); the kernel and this type only ever access it atomically.
        unsafe { AtomicU64::from_ptr(self.consumer.as_ptr().cast()) }
    }

    #[inline(always)]
    fn producer_pos(&self) -> u64 {
        // SAFETY: `producer_pos` is the first, 8-aligned word of the live producer mapping;
        // the kernel writes it with release stores.
        unsafe { AtomicU64::from_ptr(self.producer.as_ptr().cast()) }.load(Ordering::Acquire)
    }

    #[inline(always)]
    fn data(&self) -> *const u8 {
        // SAFETY: the data area starts one page into the producer mapping, which is
        // `page + 2 * size` bytes long.
        unsafe { self.producer.as_ptr().add(self.page) }
    }

    /// The header word at `offset` (a position masked).
    #[inline(always)]
    fn header_word(&self, offset: usize) -> u32 {
        debug_assert!(offset as u64 <= self.mask && offset.is_multiple_of(8));
        // SAFETY: `offset` < size and is a multiple of 8 (positions start 8-aligned and move by
        // multiples of 8), so the word is aligned and inside the first copy of the data area.
        // The kernel writes it with an atomic exchange when it commits; it is only read
        // atomically here.
        unsafe { AtomicU32::from_ptr(self.data().add(offset).cast_mut().cast()) }
            .load(Ordering::Acquire)
    }

    /// The record at `pos` when its header is the predicted one and it ends before `limit`:
    /// then it passed the checks of `header` when the prediction was made. Returns its
    /// offset and the position after it.
    #[inline(always)]
    fn predicted(&self, pos: u64, limit: u64, prediction: Prediction) -> Option<(usize, u64)> {
        let offset = (pos & self.mask) as usize;
        let next = pos + prediction.span;
        (next <= limit && self.header_word(offset) == prediction.header).then_some((offset, next))
    }

    /// Reads the header at `pos`, which lies before `limit`.
    #[inline(always)]
    fn header(&self, pos: u64, limit: u64) -> Result<Header, CorruptRecord> {
        let offset = (pos & self.mask) as usize;
        let word = self.header_word(offset);
        if word & BUSY_BIT != 0 {
            return Ok(Header::Busy);
        }
        let len = u64::from(word & !(BUSY_BIT | DISCARD_BIT));
        let span = record_span(len);
        // A record longer than the ring, or reaching past what the producer reserved, was not
        // written by the kernel; the first check also keeps the slice inside the mapping.
        if span > self.mask + 1 || pos + span > limit {
            return Err(CorruptRecord { position: pos });
        }
        Ok(Header::Committed {
            offset,
            len: len as usize,
            discarded: word & DISCARD_BIT != 0,
            next: pos + span,
        })
    }

    /// The data of the committed record whose header is at `offset`.
    #[inline(always)]
    fn record(&self, offset: usize, len: usize) -> &[u8] {
        // SAFETY: `header` checked that header and data (at most `size` bytes from `offset`,
        // which is < size) lie inside the doubly mapped data area. The record is committed:
        // the kernel leaves it alone until `consumer_pos` passes it, which takes `&mut self`
        // (or the end of the `RingBatch` borrowing `self`), so not while this borrow lives.
        unsafe { std::slice::from_raw_parts(self.data().add(offset + HEADER_LEN as usize), len) }
    }

    /// Stores the read position into `consumer_pos`, giving the records read back to the
    /// producer.
    #[inline]
    pub fn publish(&mut self) {
        if self.pos != self.published {
            self.consumer_word().store(self.pos, Ordering::Release);
            self.published = self.pos;
        }
    }

    /// True if a committed record waits at the read position (discarded ones there are
    /// skipped; a corrupt header counts, so that the next read reports it). Publishes nothing.
    #[inline]
    pub fn has_record(&mut self) -> bool {
        loop {
            if self.pos >= self.limit {
                self.limit = self.producer_pos();
                if self.pos >= self.limit {
                    return false;
                }
            }
            match self.header(self.pos, self.limit) {
                Ok(Header::Busy) => return false,
                Ok(Header::Committed {
                    discarded: true,
                    next,
                    ..
                }) => self.pos = next,
                Ok(Header::Committed { .. }) | Err(_) => return true,
            }
        }
    }

    /// Tells whether nothing is left to read, publishing the read position first when so.
    /// When it returns true the kernel will wake the ring's waiters (epoll, poll) at its next
    /// commit: it wakes them only for a record at the published position, and the fence
    /// orders the publication before the last look, as the kernel's commit orders its header
    /// write before its look at `consumer_pos`.
    pub fn is_drained(&mut self) -> bool {
        if self.has_record() {
            return false;
        }
        if self.pos != self.published {
            self.publish();
            fence(Ordering::SeqCst);
        }
        !self.has_record()
    }

    /// The next committed record, discarded ones skipped; `None` when none is ready. The
    /// position is published when the ring runs dry and every quarter ring (at most 64 KiB).
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, CorruptRecord> {
        if let Some((offset, next)) = self.predicted(self.pos, self.fast_end, self.prediction) {
            self.pos = next;
            return Ok(Some(self.record(offset, self.prediction.len())));
        }
        self.next_record_unpredicted()
    }

    /// `next_record` when a publication is due or the header is not the predicted one.
    fn next_record_unpredicted(&mut self) -> Result<Option<&[u8]>, CorruptRecord> {
        if self.pos - self.published >= self.publish_lag {
            self.publish();
        }
        loop {
            if self.pos >= self.limit {
                self.limit = self.producer_pos();
                if self.pos >= self.limit && self.is_drained() {
                    return Ok(None);
                }
                continue;
            }
            match self.header(self.pos, self.limit)? {
                Header::Busy => {
                    if self.is_drained() {
                        return Ok(None);
                    }
                }
                Header::Committed {
                    offset,
                    len,
                    discarded,
                    next,
                } => {
                    self.pos = next;
                    if !discarded {
                        self.prediction = Prediction::like(len);
                        self.fast_end = self.limit.min(self.published + self.publish_lag);
                        return Ok(Some(self.record(offset, len)));
                    }
                }
            }
        }
    }

    /// Hands every committed record to `f`, in order, until none is left (records committed
    /// meanwhile included); returns how many. The position is published every quarter ring
    /// (at most 64 KiB) and at the end.
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(&[u8])) -> Result<usize, CorruptRecord> {
        // Locals, not fields: `f` may write anywhere, and the loop must not reload them.
        let data = self.data();
        let mask = self.mask;
        let lag = self.publish_lag;
        let mut prediction = self.prediction;
        let mut count = 0;
        let mut pos = self.pos;
        let mut limit = self.producer_pos();
        loop {
            // A run of records with the predicted header (see `Prediction`): the position
            // moves by a span held in a register, not by one computed from the header read.
            let publish_at = self.published + lag;
            let run_end = limit.min(publish_at);
            while pos < run_end {
                let offset = (pos & mask) as usize;
                // SAFETY: as in `header_word`: an aligned word inside the first copy of the
                // data area, written by the kernel with an atomic exchange, read atomically.
                let word = unsafe { AtomicU32::from_ptr(data.add(offset).cast_mut().cast()) }
                    .load(Ordering::Acquire);
                if word != prediction.header || pos + prediction.span > limit {
                    break;
                }
                // SAFETY: as in `record`: a record with this header passed the checks of
                // `header` when the prediction was made (its header and data lie inside the
                // doubly mapped data area), and this one ends before `limit`. It is committed;
                // the slice lives only for the call, and the position is published after.
                f(unsafe {
                    std::slice::from_raw_parts(
                        data.add(offset + HEADER_LEN as usize),
                        prediction.len(),
                    )
                });
                count += 1;
                pos += prediction.span;
            }
            if pos >= publish_at {
                self.consumer_word().store(pos, Ordering::Release);
                self.published = pos;
                continue;
            }
            if pos < limit {
                match self.step(pos, limit) {
                    Step::Predict(next) => {
                        // The run goes on with this record.
                        prediction = next;
                        continue;
                    }
                    Step::Skip(next) => {
                        pos = next;
                        continue;
                    }
                    Step::Busy => {}
                    Step::Corrupt => {
                        self.pos = pos;
                        self.prediction = prediction;
                        return Err(CorruptRecord { position: pos });
                    }
                }
            }
            // Nothing ready at `pos` as far as `limit` tells.
            self.pos = pos;
            self.limit = limit;
            if self.is_drained() {
                self.prediction = prediction;
                return Ok(count);
            }
            (pos, limit) = (self.pos, self.limit);
        }
    }

    /// What `drain` does at `pos` (before `limit`) when the header there is not the
    /// predicted one. Out of line: the drain's loop keeps its registers for the run.
    #[inline(never)]
    fn step(&self, pos: u64, limit: u64) -> Step {
        match self.header(pos, limit) {
            Ok(Header::Busy) => Step::Busy,
            Ok(Header::Committed {
                discarded: true,
                next,
                ..
            }) => Step::Skip(next),
            Ok(Header::Committed { len, .. }) => Step::Predict(Prediction::like(len)),
            Err(_) => Step::Corrupt,
        }
    }

    /// A pass over the records ready now, read through a shared borrow so they can all be kept
    /// until the batch ends; the position is published then.
    pub fn batch(&mut self) -> RingBatch<'_> {
        RingBatch {
            pos: Cell::new(self.pos),
            limit: Cell::new(self.producer_pos()),
            prediction: Cell::new(self.prediction),
            ring: self,
        }
    }
}

impl Drop for RingBufConsumer {
    fn drop(&mut self) {
        self.publish();
    }
}

/// Records read through a shared borrow: every slice lives as long as the batch, whose end
/// publishes the position.
#[derive(Debug)]
pub struct RingBatch<'a> {
    ring: &'a mut RingBufConsumer,
    pos: Cell<u64>,
    limit: Cell<u64>,
    prediction: Cell<Prediction>,
}

impl RingBatch<'_> {
    /// The next committed record, discarded ones skipped; `None` once none is ready.
    #[inline]
    pub fn next_record(&self) -> Result<Option<&[u8]>, CorruptRecord> {
        let prediction = self.prediction.get();
        if let Some((offset, next)) =
            self.ring
                .predicted(self.pos.get(), self.limit.get(), prediction)
        {
            self.pos.set(next);
            return Ok(Some(self.ring.record(offset, prediction.len())));
        }
        self.next_record_unpredicted()
    }

    fn next_record_unpredicted(&self) -> Result<Option<&[u8]>, CorruptRecord> {
        loop {
            let (pos, mut limit) = (self.pos.get(), self.limit.get());
            if pos >= limit {
                limit = self.ring.producer_pos();
                self.limit.set(limit);
                if pos >= limit {
                    return Ok(None);
                }
            }
            match self.ring.header(pos, limit)? {
                Header::Busy => return Ok(None),
                Header::Committed {
                    offset,
                    len,
                    discarded,
                    next,
                } => {
                    self.pos.set(next);
                    if !discarded {
                        self.prediction.set(Prediction::like(len));
                        return Ok(Some(self.ring.record(offset, len)));
                    }
                }
            }
        }
    }
}

impl Drop for RingBatch<'_> {
    fn drop(&mut self) {
        self.ring.pos = self.pos.get();
        self.ring.limit = self.limit.get();
        self.ring.prediction = self.prediction.get();
        // As in `is_drained`: a waiter that sleeps after the batch must be woken.
        if self.ring.pos != self.ring.published {
            self.ring.publish();
            fence(Ordering::SeqCst);
        }
    }
}
