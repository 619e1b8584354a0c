//! Every online CPU's buffer of a perf event array, read together: libbpf's
//! `perf_buffer__new` / `perf_buffer__poll` / `perf_buffer__consume`.

use std::borrow::BorrowMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use bpf_sys::epoll::Epoll;
use bpf_sys::util::online_cpus;

use super::{MapData, MapError, PerfEventArray, PerfEventArrayBuffer, PerfSample};

/// The per-CPU buffers of one perf event array with an epoll set over them. Its fd
/// ([`AsFd::as_fd`]) is that epoll set: readable when any CPU's buffer has samples.
#[derive(Debug)]
pub struct PerfBuffer {
    name: String,
    buffers: Vec<PerfEventArrayBuffer>,
    epoll: Epoll,
    ready: Vec<u64>,
}

impl PerfBuffer {
    /// Opens a buffer of `page_count` pages (a power of two) on every online CPU of `array`.
    pub fn new<T: BorrowMut<MapData>>(
        array: &mut PerfEventArray<T>,
        page_count: usize,
    ) -> Result<PerfBuffer, MapError> {
        let name = array.map_data().name().to_owned();
        let io_error = |what, source| MapError::Io {
            name: name.clone(),
            what,
            source,
        };
        let epoll = Epoll::new().map_err(|e| io_error("creating an epoll set", e))?;
        let cpus = online_cpus().map_err(|e| io_error("reading the online CPUs", e))?;
        let mut buffers = Vec::with_capacity(cpus.len());
        for (token, cpu) in (0u64..).zip(cpus) {
            let buffer = array.open(cpu, page_count)?;
            epoll
                .add(buffer.as_fd(), token)
                .map_err(|e| io_error("adding a perf buffer to epoll", e))?;
            buffers.push(buffer);
        }
        Ok(PerfBuffer {
            ready: vec![0; buffers.len().max(1)],
            name,
            buffers,
            epoll,
        })
    }

    /// Hands every waiting sample of every CPU to `on_sample(cpu, sample)` and each count of
    /// dropped samples to `on_lost(cpu, count)`, without a syscall (libbpf's
    /// `perf_buffer__consume`). Returns how many samples were handled.
    #[inline]
    pub fn drain(
        &mut self,
        mut on_sample: impl FnMut(u32, PerfSample<'_>),
        mut on_lost: impl FnMut(u32, u64),
    ) -> Result<usize, MapError> {
        let mut handled = 0;
        for buffer in &mut self.buffers {
            if !buffer.readable() {
                continue;
            }
            let cpu = buffer.cpu();
            let events =
                buffer.drain(|sample| on_sample(cpu, sample), |count| on_lost(cpu, count))?;
            handled += events.read;
        }
        Ok(handled)
    }

    /// Like [`drain`](Self::drain), but when no CPU has anything waits up to `timeout`
    /// (`None`: until something arrives) first. Returns how many samples were handled (0:
    /// timed out, or only lost counts arrived).
    #[inline]
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut on_sample: impl FnMut(u32, PerfSample<'_>),
        mut on_lost: impl FnMut(u32, u64),
    ) -> Result<usize, MapError> {
        // The drain inline (the caller's closures stay in registers), the waiting apart.
        let mut lost = false;
        let handled = self.drain(&mut on_sample, |cpu, count| {
            lost = true;
            on_lost(cpu, count)
        })?;
        if handled > 0 || lost {
            return Ok(handled);
        }
        self.wait_then_drain(timeout, on_sample, on_lost)
    }

    /// `poll` once nothing was ready.
    fn wait_then_drain(
        &mut self,
        timeout: Option<Duration>,
        mut on_sample: impl FnMut(u32, PerfSample<'_>),
        mut on_lost: impl FnMut(u32, u64),
    ) -> Result<usize, MapError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(0);
            }
            // The tokens are not needed: every buffer is checked (one load each) after a wake.
            self.epoll
                .wait(&mut self.ready, left)
                .map_err(|source| MapError::Io {
                    name: self.name.clone(),
                    what: "waiting on the perf buffers",
                    source,
                })?;
            let mut lost = false;
            let handled = self.drain(&mut on_sample, |cpu, count| {
                lost = true;
                on_lost(cpu, count)
            })?;
            if handled > 0 || lost {
                return Ok(handled);
            }
        }
    }

    /// The perf event array's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Empties the epoll set's list of woken buffers without waiting, so that it reports
    /// only wakeups to come (the buffers themselves are read by their positions).
    #[cfg(feature = "tokio")]
    pub(crate) fn clear_wakeups(&mut self) {
        let _ = self.epoll.wait(&mut self.ready, Some(Duration::ZERO));
    }

    /// True if some CPU's buffer has records waiting. No syscall.
    pub fn has_samples(&self) -> bool {
        self.buffers.iter().any(|b| b.readable())
    }

    /// The CPUs with a buffer.
    pub fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.buffers.iter().map(|b| b.cpu())
    }

    /// Samples dropped so far on `cpu` because its buffer was full (0 for a CPU without one).
    pub fn lost(&self, cpu: u32) -> u64 {
        self.buffers
            .iter()
            .find(|b| b.cpu() == cpu)
            .map_or(0, |b| b.lost())
    }

    /// The per-CPU buffers.
    pub fn buffers_mut(&mut self) -> &mut [PerfEventArrayBuffer] {
        &mut self.buffers
    }

    /// The per-CPU buffers on their own, e.g. to read each from a thread pinned to its CPU.
    pub fn into_buffers(self) -> Vec<PerfEventArrayBuffer> {
        self.buffers
    }
}

impl AsFd for PerfBuffer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl AsRawFd for PerfBuffer {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_fd().as_raw_fd()
    }
}
