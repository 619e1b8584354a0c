//! The shared memory of a user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`), written in place:
//! user space produces, a program drains with `bpf_user_ringbuf_drain`.
//!
//! The layout is a ring buffer's (see [`crate::ring_buf`]) with the roles swapped: page 0
//! (`consumer_pos`) is the kernel's and mapped read-only, page 1 (`producer_pos`) and the
//! data area, mapped twice, are ours. A reserved record's header carries BUSY until it is
//! submitted (or DISCARD when discarded); the kernel stops at a BUSY record.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::error::SyscallError;
use crate::mmap::MmapRegion;
use crate::ring_buf::{BUSY_BIT, DISCARD_BIT, HEADER_LEN, check_ring_size, record_span};
use crate::util::page_size;

/// Why a record could not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveError {
    /// The record (with its 8-byte header, padded to 8) cannot fit in the ring at all.
    TooLarge {
        /// The length asked for.
        len: usize,
        /// The ring's data area.
        capacity: u64,
    },
    /// Not enough free space until the program drains more records.
    Full {
        /// The length asked for.
        len: usize,
    },
}

impl fmt::Display for ReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReserveError::TooLarge { len, capacity } => write!(
                f,
                "a {len}-byte record does not fit in a {capacity}-byte ring buffer"
            ),
            ReserveError::Full { len } => {
                write!(
                    f,
                    "no room for a {len}-byte record until the program drains"
                )
            }
        }
    }
}

impl std::error::Error for ReserveError {}

/// The producer side of one user ring buffer.
#[derive(Debug)]
pub struct UserRingBufProducer {
    consumer: MmapRegion,
    /// The producer page followed by the data area, twice.
    producer: MmapRegion,
    mask: u64,
    page: usize,
}

impl UserRingBufProducer {
    /// Maps the user ring buffer `fd` whose data area is `size` bytes (`max_entries`).
    pub fn new(fd: BorrowedFd<'_>, size: u64) -> Result<Self, SyscallError> {
        check_ring_size(size)?;
        let page = page_size();
        let consumer = MmapRegion::new(fd, page, 0, false)?;
        let len = usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_mul(2)?.checked_add(page))
            .ok_or_else(|| SyscallError::from_errno(crate::Command::Mmap, libc::E2BIG))?;
        let producer = MmapRegion::new(fd, len, page, true)?;
        Ok(UserRingBufProducer {
            consumer,
            producer,
            mask: size - 1,
            page,
        })
    }

    /// Bytes of data area.
    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    fn consumer_pos(&self) -> u64 {
        // SAFETY: `consumer_pos` is the first, 8-aligned word of the live consumer mapping; the
        // kernel writes it with release stores and it is only read atomically here.
        unsafe { AtomicU64::from_ptr(self.consumer.as_ptr().cast()) }.load(Ordering::Acquire)
    }

    fn producer_word(&self) -> &AtomicU64 {
        // SAFETY: `producer_pos` is the first, 8-aligned word of the live, writable producer
        // mapping; the kernel only reads it, and it is accessed atomically here.
        unsafe { AtomicU64::from_ptr(self.producer.as_ptr().cast()) }
    }

    /// Bytes free for records now (headers and padding included).
    pub fn free_space(&self) -> u64 {
        let used = self
            .producer_word()
            .load(Ordering::Relaxed)
            .wrapping_sub(self.consumer_pos());
        self.capacity().saturating_sub(used)
    }

    /// Reserves a `len`-byte record. The program sees it only once it is
    /// [submitted](UserRingBufEntry::submit); dropping the entry discards it.
    pub fn reserve(&mut self, len: usize) -> Result<UserRingBufEntry<'_>, ReserveError> {
        let capacity = self.capacity();
        let len32 = u32::try_from(len)
            .ok()
            .filter(|l| l & (BUSY_BIT | DISCARD_BIT) == 0);
        let span = record_span(len as u64);
        let Some(len32) = len32.filter(|_| span <= capacity) else {
            return Err(ReserveError::TooLarge { len, capacity });
        };
        let consumer = self.consumer_pos();
        let producer = self.producer_word().load(Ordering::Relaxed);
        if producer.wrapping_sub(consumer) + span > capacity {
            return Err(ReserveError::Full { len });
        }
        let offset = (producer & self.mask) as usize;
        // SAFETY: the data area (two copies of `capacity` bytes) starts `page` bytes into the
        // live, writable producer mapping; `offset` < capacity and is 8-aligned (positions move
        // by multiples of 8), so the header word is aligned and inside the first copy.
        let header =
            unsafe { AtomicU32::from_ptr(self.producer.as_ptr().add(self.page + offset).cast()) };
        header.store(len32 | BUSY_BIT, Ordering::Relaxed);
        // The header is BUSY before the kernel can see the record: it stops there.
        self.producer_word()
            .store(producer + span, Ordering::Release);
        // SAFETY: header + data (`span` <= capacity bytes from `offset` < capacity) lie inside
        // the doubly mapped data area. The span is between the kernel's consumer position and
        // our producer position; the kernel reads no further than a BUSY header, and the only
        // borrow of this memory is the returned entry's, which ends at submit or discard.
        let data = unsafe {
            std::slice::from_raw_parts_mut(
                self.producer
                    .as_ptr()
                    .add(self.page + offset + HEADER_LEN as usize),
                len,
            )
        };
        Ok(UserRingBufEntry {
            header,
            data,
            len: len32,
            done: false,
        })
    }
}

/// A reserved record: write it through `DerefMut<Target = [u8]>`, then
/// [`submit`](Self::submit) it. Dropping it unsubmitted discards it.
#[derive(Debug)]
pub struct UserRingBufEntry<'a> {
    header: &'a AtomicU32,
    data: &'a mut [u8],
    len: u32,
    done: bool,
}

impl UserRingBufEntry<'_> {
    fn commit(&mut self, flags: u32) {
        // Release: the data written is visible to the kernel once it sees the header.
        self.header.swap(self.len | flags, Ordering::AcqRel);
        self.done = true;
    }

    /// Hands the record to the program's next `bpf_user_ringbuf_drain`.
    pub fn submit(mut self) {
        self.commit(0);
    }

    /// Gives the space back; the program skips the record.
    pub fn discard(mut self) {
        self.commit(DISCARD_BIT);
    }
}

impl Deref for UserRingBufEntry<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.data
    }
}

impl DerefMut for UserRingBufEntry<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.data
    }
}

impl Drop for UserRingBufEntry<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.commit(DISCARD_BIT);
        }
    }
}
