//! [`AsyncRingBuf`]: a ring buffer read from a Tokio task (`tokio` feature).

use std::borrow::BorrowMut;
use std::os::fd::{AsFd, OwnedFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::{MapData, MapError, RingBuf, RingBufItem};

/// A [`RingBuf`] whose reads wait on the Tokio reactor. Several readers (ring buffers, perf
/// buffers) can be awaited together in one task with `tokio::select!`: every method is
/// cancel-safe (a cancelled wait loses no record).
///
/// ```no_run
/// # async fn f(bpf: &mut bpf_programs::Bpf) -> Result<(), Box<dyn std::error::Error>> {
/// use bpf_programs::maps::{AsyncRingBuf, RingBuf};
/// let mut events = AsyncRingBuf::new(RingBuf::try_from(bpf.take_map("events").unwrap())?)?;
/// loop {
///     let record = events.next().await?;
///     println!("{} bytes", record.len());
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncRingBuf<T: BorrowMut<MapData>> {
    ring: RingBuf<T>,
    /// A duplicate of the map's fd, registered with the reactor.
    fd: AsyncFd<OwnedFd>,
}

impl<T: BorrowMut<MapData>> AsyncRingBuf<T> {
    /// Registers the ring buffer with the reactor of the Tokio runtime this runs in.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn new(ring: RingBuf<T>) -> Result<Self, MapError> {
        let fd = register(&ring)?;
        Ok(AsyncRingBuf { ring, fd })
    }

    /// Waits until a record is ready (at once, without a syscall, if one is).
    pub async fn readable(&mut self) -> Result<(), MapError> {
        readable(&mut self.ring, &self.fd).await
    }

    /// The next record, waiting for one; lent until the next call.
    pub async fn next(&mut self) -> Result<RingBufItem<'_>, MapError> {
        self.readable().await?;
        self.ring.next_ready()
    }

    /// Waits until records are ready, then hands all of them to `f`; returns how many.
    pub async fn drain(&mut self, f: impl FnMut(RingBufItem<'_>)) -> Result<usize, MapError> {
        self.readable().await?;
        self.ring.drain(f)
    }

    /// The ring buffer, e.g. for a non-blocking [`RingBuf::drain`].
    pub fn get_mut(&mut self) -> &mut RingBuf<T> {
        &mut self.ring
    }

    /// Deregisters the ring buffer and gives it back.
    pub fn into_inner(self) -> RingBuf<T> {
        self.ring
    }
}

/// A duplicate of `ring`'s fd registered with the current Tokio reactor, for [`readable`].
pub(crate) fn register<T: BorrowMut<MapData>>(
    ring: &RingBuf<T>,
) -> Result<AsyncFd<OwnedFd>, MapError> {
    let io_error = |what, source| MapError::Io {
        name: ring.map_data().name().to_owned(),
        what,
        source,
    };
    let fd = ring
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| io_error("duplicating the ring buffer's fd", e))?;
    bpf_sys::async_fd::register(fd, Interest::READABLE)
        .map_err(|e| io_error("registering the ring buffer with the Tokio reactor", e))
}

/// Waits until `ring` holds a record (at once, without a syscall, if it does); cancel-safe.
pub(crate) async fn readable<T: BorrowMut<MapData>>(
    ring: &mut RingBuf<T>,
    fd: &AsyncFd<OwnedFd>,
) -> Result<(), MapError> {
    loop {
        // Publishing the position first makes the kernel wake the reactor at the next
        // commit, so clearing the readiness below cannot miss it.
        if !ring.is_drained() {
            return Ok(());
        }
        let mut guard = fd.readable().await.map_err(|source| MapError::Io {
            name: ring.map_data().name().to_owned(),
            what: "waiting on the ring buffer",
            source,
        })?;
        if !ring.is_drained() {
            return Ok(());
        }
        guard.clear_ready();
    }
}
