//! User ring buffers: `BPF_MAP_TYPE_USER_RINGBUF` (Linux 6.1+), written by user space in place,
//! drained by a program with `bpf_user_ringbuf_drain`.
//!
//! ```no_run
//! # use bpf_programs::maps::UserRingBuf;
//! # fn f(mut ring: UserRingBuf<bpf_programs::maps::MapData>) -> Result<(), Box<dyn std::error::Error>> {
//! # use std::time::Duration;
//! ring.write(b"one record")?;                        // reserve, copy, submit
//! ring.write_pod(&42u64)?;
//! let mut entry = ring.reserve(16)?;                 // or write in place
//! entry[..8].copy_from_slice(&7u64.to_ne_bytes());
//! entry.submit();                                    // dropped unsubmitted: discarded
//! ring.wait_for_space(64, Some(Duration::from_millis(100)))?;
//! # Ok(()) }
//! ```

use std::borrow::BorrowMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::{Pod, bytes_of};
use bpf_sys::user_ring_buf::{ReserveError, UserRingBufProducer};

pub use bpf_sys::user_ring_buf::UserRingBufEntry;

use super::kind::check_map_type;
use super::map_data::syscall;
use super::wrapper::map_wrapper;
use super::{MapData, MapError};

/// A user ring buffer's producer side; one per map in the process.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::UserRingBuf;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut commands = UserRingBuf::try_from(bpf.take_map("commands").unwrap())?;
/// commands.write_pod(&7u64)?; // the program's bpf_user_ringbuf_drain sees 8 bytes
/// let mut entry = commands.reserve(4)?;
/// entry.copy_from_slice(&1u32.to_ne_bytes());
/// entry.submit();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct UserRingBuf<T> {
    inner: T,
    ring: UserRingBufProducer,
}

impl<T: BorrowMut<MapData>> UserRingBuf<T> {
    /// Maps the ring buffer's pages after checking its type.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_USER_RINGBUF)?;
        let ring = UserRingBufProducer::new(data.fd(), u64::from(data.max_entries()))
            .map_err(|e| syscall(data.name(), e))?;
        Ok(UserRingBuf { inner, ring })
    }

    /// Reserves a `len`-byte record to fill in place; the program sees it once it is
    /// submitted. [`MapError::RingBufFull`] when the program has not drained enough yet.
    pub fn reserve(&mut self, len: usize) -> Result<UserRingBufEntry<'_>, MapError> {
        match self.ring.reserve(len) {
            Ok(entry) => Ok(entry),
            Err(e) => Err(reserve_error(self.inner.borrow(), e)),
        }
    }

    /// Submits a copy of `bytes` as one record.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), MapError> {
        let mut entry = self.reserve(bytes.len())?;
        entry.copy_from_slice(bytes);
        entry.submit();
        Ok(())
    }

    /// Submits `value` as one record of `size_of::<V>()` bytes.
    pub fn write_pod<V: Pod>(&mut self, value: &V) -> Result<(), MapError> {
        self.write(bytes_of(value))
    }

    /// Bytes free now for records (each takes its length plus an 8-byte header, padded to 8).
    pub fn free_space(&self) -> u64 {
        self.ring.free_space()
    }

    /// Waits up to `timeout` (`None`: for as long as it takes) until a `len`-byte record
    /// fits; false on timeout. The kernel wakes writers after a program drained records.
    pub fn wait_for_space(&self, len: usize, timeout: Option<Duration>) -> Result<bool, MapError> {
        let needed = (len as u64 + 8).next_multiple_of(8);
        if needed > self.ring.capacity() {
            return Err(reserve_error(
                self.inner.borrow(),
                ReserveError::TooLarge {
                    len,
                    capacity: self.ring.capacity(),
                },
            ));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.ring.free_space() >= needed {
                return Ok(true);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(false);
            }
            let data = self.inner.borrow();
            // Writable means "not full", maybe still too little room: look again after it.
            let writable =
                bpf_sys::epoll::wait_writable(data.fd(), left).map_err(|source| MapError::Io {
                    name: data.name().to_owned(),
                    what: "waiting for room in the user ring buffer",
                    source,
                })?;
            if writable && self.ring.free_space() < needed {
                std::thread::yield_now();
            }
        }
    }

    /// Bytes of data area (`max_entries`).
    pub fn capacity(&self) -> u64 {
        self.ring.capacity()
    }
}

fn reserve_error(data: &MapData, e: ReserveError) -> MapError {
    match e {
        ReserveError::TooLarge { len, capacity } => MapError::RecordTooLarge {
            name: data.name().to_owned(),
            len,
            capacity,
        },
        ReserveError::Full { len } => MapError::RingBufFull {
            name: data.name().to_owned(),
            len,
        },
    }
}

impl<T: std::borrow::Borrow<MapData>> AsFd for UserRingBuf<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.borrow().fd()
    }
}

impl<T: std::borrow::Borrow<MapData>> AsRawFd for UserRingBuf<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

map_wrapper!(exclusive UserRingBuf);
