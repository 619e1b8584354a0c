//! Several ring buffers read together, one epoll set over them: libbpf's `ring_buffer__new` /
//! `ring_buffer__add` / `ring_buffer__poll`.
//!
//! ```no_run
//! # use bpf_programs::maps::{RingBuf, RingBufSet};
//! # fn f(mut bpf: bpf_programs::Bpf) -> Result<(), Box<dyn std::error::Error>> {
//! # use std::time::Duration;
//! let mut rings = RingBufSet::new()?;
//! let exec = rings.add(RingBuf::try_from(bpf.take_map("exec_events").unwrap())?)?;
//! let exit = rings.add(RingBuf::try_from(bpf.take_map("exit_events").unwrap())?)?;
//! rings.poll(Some(Duration::from_millis(100)), |ring, record| {
//!     if ring == exec { /* … */ } else if ring == exit { /* … */ }
//! })?;
//! # Ok(()) }
//! ```

use std::borrow::BorrowMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use bpf_sys::epoll::Epoll;

use super::{MapData, MapError, RingBuf, RingBufItem};

/// Ring buffers polled together. Its fd ([`AsFd::as_fd`]) is the epoll set: readable when any
/// of them has records.
#[derive(Debug)]
pub struct RingBufSet<T = MapData> {
    rings: Vec<RingBuf<T>>,
    epoll: Epoll,
    ready: Vec<u64>,
}

impl<T: BorrowMut<MapData>> RingBufSet<T> {
    /// An empty set.
    pub fn new() -> Result<Self, MapError> {
        let epoll = Epoll::new().map_err(|source| MapError::Io {
            name: "<ring buffer set>".to_owned(),
            what: "creating an epoll set",
            source,
        })?;
        Ok(RingBufSet {
            rings: Vec::new(),
            epoll,
            ready: Vec::new(),
        })
    }

    /// Adds a ring buffer; returns its index, which callbacks receive with its records.
    pub fn add(&mut self, ring: RingBuf<T>) -> Result<usize, MapError> {
        let index = self.rings.len();
        self.epoll
            .add(ring.as_fd(), index as u64)
            .map_err(|source| MapError::Io {
                name: ring.map_data().name().to_owned(),
                what: "adding a ring buffer to epoll",
                source,
            })?;
        self.rings.push(ring);
        self.ready.push(0);
        Ok(index)
    }

    /// Hands every ready record of every ring to `f(index, record)`, ring by ring, without a
    /// syscall (libbpf's `ring_buffer__consume`). Returns how many records were handled.
    #[inline]
    pub fn drain(&mut self, mut f: impl FnMut(usize, RingBufItem<'_>)) -> Result<usize, MapError> {
        let mut handled = 0;
        for (index, ring) in self.rings.iter_mut().enumerate() {
            handled += ring.drain(|record| f(index, record))?;
        }
        Ok(handled)
    }

    /// Like [`drain`](Self::drain), but when no ring has anything waits up to `timeout`
    /// (`None`: until something arrives) first. Returns how many records were handled (0:
    /// timed out).
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut f: impl FnMut(usize, RingBufItem<'_>),
    ) -> Result<usize, MapError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            // Draining leaves every ring's position published, so each wakes the set at its
            // next commit.
            let handled = self.drain(&mut f)?;
            if handled > 0 {
                return Ok(handled);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(0);
            }
            self.epoll
                .wait(&mut self.ready, left)
                .map_err(|source| MapError::Io {
                    name: "<ring buffer set>".to_owned(),
                    what: "waiting on the ring buffers",
                    source,
                })?;
        }
    }

    /// How many ring buffers the set holds.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// True when the set holds none.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// The ring buffer at `index`.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut RingBuf<T>> {
        self.rings.get_mut(index)
    }

    /// The ring buffers, in the order they were added.
    pub fn into_rings(self) -> Vec<RingBuf<T>> {
        self.rings
    }
}

impl<T> AsFd for RingBufSet<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl<T> AsRawFd for RingBufSet<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_fd().as_raw_fd()
    }
}
