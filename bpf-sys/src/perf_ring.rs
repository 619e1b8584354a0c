//! The shared memory of one perf event's ring (a `PERF_COUNT_SW_BPF_OUTPUT` event per CPU of a
//! perf event array), read in place.
//!
//! Layout: a metadata page (`struct perf_event_mmap_page`: the kernel's `data_head`, our
//! `data_tail`), then a power-of-two data area mapped once, so a record may wrap its end.
//! Records are `struct perf_event_header` (type, misc, size) and a body, 8-byte aligned.
//!
//! Why records can be lent out: the kernel writes only between `data_head` and `data_tail` +
//! the ring size; records between `data_tail` and `data_head` stay as they are until
//! `data_tail` moves past them, which this module does at the end of [`PerfRing::drain`],
//! after the callback's borrows have ended.

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::SyscallError;
use crate::generated::{perf_event_mmap_page, perf_event_type};
use crate::mmap::MmapRegion;
use crate::ring_buf::CorruptRecord;
use crate::util::page_size;

const HEADER_LEN: usize = 8;

/// One record of a perf ring opened with `PERF_SAMPLE_RAW` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfRecord<'a> {
    /// A sample's raw data, as the kernel padded it: `bpf_perf_event_output`'s bytes followed
    /// by up to 7 bytes (left as they were, not cleared) to a length 4 less than a multiple
    /// of 8.
    Sample(&'a [u8]),
    /// Samples the kernel dropped because the ring was full.
    Lost(u64),
    /// A record of another type (`perf_event_type::PERF_RECORD_*`), not interpreted.
    Other(u32),
}

/// The sample expected next: the last sample's record header and raw length, which
/// fixed-size events repeat. As in `ring_buf`: a record whose header matches moves the
/// position by a size held in a register, so the CPU reads the following headers before this
/// one has arrived instead of waiting for each in turn.
#[derive(Debug, Clone, Copy)]
struct Prediction {
    /// `struct perf_event_header` (type, misc, size) as one word.
    header: u64,
    raw_len: u32,
    size: u64,
}

impl Prediction {
    /// Matches nothing: no record is larger than the ring.
    const NONE: Prediction = Prediction {
        header: 0,
        raw_len: 0,
        size: u64::MAX,
    };
}

/// One record read the long way (`PerfRing::record_at`).
enum Parsed<'a> {
    Record(PerfRecord<'a>, u64),
    Corrupt,
}

/// A perf event's mapped ring and the position read up to.
#[derive(Debug)]
pub struct PerfRing {
    region: MmapRegion,
    data_size: usize,
    /// The metadata page's size: where the data area starts.
    page: usize,
    /// `data_tail`: everything before it has been read.
    tail: u64,
    /// A record that wraps the ring's end, put back together.
    scratch: Vec<u8>,
    prediction: Prediction,
}

impl PerfRing {
    /// Maps the ring of the perf event `fd`: the metadata page and `page_count` data pages (a
    /// power of two).
    pub fn new(fd: BorrowedFd<'_>, page_count: usize) -> Result<Self, SyscallError> {
        if page_count == 0 || !page_count.is_power_of_two() {
            return Err(SyscallError::from_errno(crate::Command::Mmap, libc::EINVAL));
        }
        let page = page_size();
        let data_size = page
            .checked_mul(page_count)
            .ok_or_else(|| SyscallError::from_errno(crate::Command::Mmap, libc::E2BIG))?;
        let region = MmapRegion::new(fd, page + data_size, 0, true)?;
        let mut ring = PerfRing {
            region,
            data_size,
            page,
            tail: 0,
            scratch: Vec::new(),
            prediction: Prediction::NONE,
        };
        ring.tail = ring.tail_word().load(Ordering::Acquire);
        Ok(ring)
    }

    /// Bytes of data area.
    pub fn capacity(&self) -> usize {
        self.data_size
    }

    fn head_word(&self) -> &AtomicU64 {
        // SAFETY: `data_head` is an aligned u64 inside the live metadata page; the kernel
        // writes it with release stores and it is only read atomically here.
        unsafe {
            AtomicU64::from_ptr(
                self.region
                    .as_ptr()
                    .add(std::mem::offset_of!(perf_event_mmap_page, data_head))
                    .cast(),
            )
        }
    }

    fn tail_word(&self) -> &AtomicU64 {
        // SAFETY: `data_tail` is an aligned u64 inside the live, writable metadata page; the
        // kernel only reads it, and it is accessed atomically here.
        unsafe {
            AtomicU64::from_ptr(
                self.region
                    .as_ptr()
                    .add(std::mem::offset_of!(perf_event_mmap_page, data_tail))
                    .cast(),
            )
        }
    }

    /// True if records are waiting (no syscall).
    #[inline]
    pub fn readable(&self) -> bool {
        self.head_word().load(Ordering::Acquire) != self.tail
    }

    /// Hands every record written so far to `f`, in order, then frees their space at once;
    /// returns how many records were read. Records are borrowed from the ring, except one that
    /// wraps its end, which is copied first.
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(PerfRecord<'_>)) -> Result<usize, CorruptRecord> {
        let head = self.head_word().load(Ordering::Acquire);
        // Locals, not fields: `f` may write anywhere, and the loop must not reload them.
        let mask = self.data_size as u64 - 1;
        // SAFETY: the data area starts `page` bytes into the live mapping.
        let data = unsafe { self.region.as_ptr().add(self.page) }.cast_const();
        let mut tail = self.tail;
        let mut prediction = self.prediction;
        let mut count = 0;
        let result = loop {
            // A run of predicted samples, none past `head` or across the ring's end.
            let end = head.min((tail | mask) + 1);
            while tail < end && prediction.size <= end - tail {
                let offset = (tail & mask) as usize;
                // SAFETY: the record, `prediction.size` bytes from `offset`, lies inside the
                // data area (it ends before the ring's end). The kernel wrote it before its
                // release store of `data_head`, loaded with acquire, and leaves it alone until
                // `data_tail` passes it, after this loop and the callback's borrows.
                let (header, raw_len) = unsafe {
                    (
                        std::ptr::read(data.add(offset).cast::<u64>()),
                        std::ptr::read(data.add(offset + HEADER_LEN).cast::<u32>()),
                    )
                };
                if header != prediction.header || raw_len != prediction.raw_len {
                    break;
                }
                // SAFETY: as above; a sample of this header and raw length passed the checks
                // of `record_at` (`HEADER_LEN + 4 + raw_len` <= size) when it was predicted.
                f(PerfRecord::Sample(unsafe {
                    std::slice::from_raw_parts(data.add(offset + HEADER_LEN + 4), raw_len as usize)
                }));
                count += 1;
                tail += prediction.size;
            }
            if tail >= head {
                break Ok(count);
            }
            match self.record_at(tail, head, &mut prediction) {
                Parsed::Record(record, size) => {
                    f(record);
                    count += 1;
                    tail += size;
                }
                Parsed::Corrupt => break Err(CorruptRecord { position: tail }),
            }
        };
        self.prediction = prediction;
        if tail != self.tail {
            self.tail = tail;
            self.tail_word().store(tail, Ordering::Release);
        }
        result
    }

    /// The record at `tail` (before `head`) and its size, read the long way: any type, a
    /// record that wraps the ring's end copied together. A sample updates `prediction`.
    #[inline(never)]
    fn record_at(&mut self, tail: u64, head: u64, prediction: &mut Prediction) -> Parsed<'_> {
        let data_size = self.data_size;
        let offset = (tail as usize) & (data_size - 1);
        // SAFETY: the data area starts `page` bytes into the live mapping.
        let data = unsafe { self.region.as_ptr().add(self.page) }.cast_const();
        // SAFETY: records are 8-aligned and the data area a multiple of 8, so the 8-byte
        // header lies inside the data area; the kernel wrote it before its release store of
        // `data_head`, which was loaded with acquire.
        let word = unsafe { std::ptr::read(data.add(offset).cast::<u64>()) };
        let header = word.to_ne_bytes();
        let kind = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
        let size = usize::from(u16::from_ne_bytes([header[6], header[7]]));
        if size < HEADER_LEN || size > data_size || tail + size as u64 > head {
            return Parsed::Corrupt;
        }
        let record: &[u8] = if offset + size <= data_size {
            // SAFETY: `offset + size` <= data_size: inside the data area. The bytes are a
            // record before `data_head`, which the kernel leaves alone until `data_tail`
            // passes it, after the drain (the callback's borrow ends first).
            unsafe { std::slice::from_raw_parts(data.add(offset), size) }
        } else {
            let first = data_size - offset;
            self.scratch.clear();
            // SAFETY: the two pieces, `offset..data_size` and `0..size - first`, lie inside
            // the data area; the record is stable as above.
            unsafe {
                self.scratch
                    .extend_from_slice(std::slice::from_raw_parts(data.add(offset), first));
                self.scratch
                    .extend_from_slice(std::slice::from_raw_parts(data, size - first));
            }
            &self.scratch
        };
        let parsed = match kind {
            perf_event_type::PERF_RECORD_SAMPLE => {
                let raw_len = record
                    .get(HEADER_LEN..HEADER_LEN + 4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                let sample = raw_len.and_then(|len| {
                    Some((
                        len,
                        record.get(HEADER_LEN + 4..HEADER_LEN + 4 + len as usize)?,
                    ))
                });
                match sample {
                    Some((raw_len, sample)) => {
                        *prediction = Prediction {
                            header: word,
                            raw_len,
                            size: size as u64,
                        };
                        PerfRecord::Sample(sample)
                    }
                    None => return Parsed::Corrupt,
                }
            }
            perf_event_type::PERF_RECORD_LOST => {
                // struct { header; u64 id; u64 lost; }
                match record.get(HEADER_LEN + 8..HEADER_LEN + 16) {
                    Some(b) => {
                        PerfRecord::Lost(u64::from_ne_bytes(b.try_into().unwrap_or_default()))
                    }
                    None => return Parsed::Corrupt,
                }
            }
            other => PerfRecord::Other(other),
        };
        Parsed::Record(parsed, size as u64)
    }
}
