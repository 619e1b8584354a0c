//! [`AsyncPerfBuffer`]: every CPU's perf buffer read from a Tokio task (`tokio` feature).

use std::os::fd::{AsFd, OwnedFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::{MapError, PerfBuffer, PerfSample};

/// A [`PerfBuffer`] whose reads wait on the Tokio reactor (through its epoll set). It can be
/// awaited with other readers in one task with `tokio::select!`; `drain` is cancel-safe.
#[derive(Debug)]
pub struct AsyncPerfBuffer {
    buffer: PerfBuffer,
    /// A duplicate of the epoll set's fd, registered with the reactor.
    fd: AsyncFd<OwnedFd>,
}

impl AsyncPerfBuffer {
    /// Registers the buffers with the reactor of the Tokio runtime this runs in.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn new(buffer: PerfBuffer) -> Result<Self, MapError> {
        let io_error = |what, source| MapError::Io {
            name: buffer.name().to_owned(),
            what,
            source,
        };
        let fd = buffer
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| io_error("duplicating the epoll set's fd", e))?;
        let fd = bpf_sys::async_fd::register(fd, Interest::READABLE)
            .map_err(|e| io_error("registering the perf buffers with the Tokio reactor", e))?;
        Ok(AsyncPerfBuffer { buffer, fd })
    }

    /// Waits until some CPU has samples (or lost counts), then hands every waiting one to
    /// `on_sample(cpu, sample)` / `on_lost(cpu, count)`; returns how many samples.
    pub async fn drain(
        &mut self,
        mut on_sample: impl FnMut(u32, PerfSample<'_>),
        mut on_lost: impl FnMut(u32, u64),
    ) -> Result<usize, MapError> {
        loop {
            let mut lost = false;
            let handled = self.buffer.drain(&mut on_sample, |cpu, count| {
                lost = true;
                on_lost(cpu, count)
            })?;
            if handled > 0 || lost {
                return Ok(handled);
            }
            let mut guard = match self.fd.readable().await {
                Ok(guard) => guard,
                Err(source) => {
                    return Err(MapError::Io {
                        name: self.buffer.name().to_owned(),
                        what: "waiting on the perf buffers",
                        source,
                    });
                }
            };
            if self.buffer.has_samples() {
                continue;
            }
            // Every sample wakes its event, so one arriving after this still wakes the set.
            self.buffer.clear_wakeups();
            guard.clear_ready();
        }
    }

    /// The buffers, e.g. for a non-blocking [`PerfBuffer::drain`].
    pub fn get_mut(&mut self) -> &mut PerfBuffer {
        &mut self.buffer
    }

    /// Deregisters the buffers and gives them back.
    pub fn into_inner(self) -> PerfBuffer {
        self.buffer
    }
}
