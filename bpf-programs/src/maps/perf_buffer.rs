//! Every online CPU's buffer of a perf event array, waited on together: libbpf's
//! `perf_buffer__new` / `perf_buffer__poll`.

use std::borrow::BorrowMut;
use std::os::fd::AsFd;
use std::time::Duration;

use bpf_sys::epoll::Epoll;
use bpf_sys::util::online_cpus;

use super::{MapData, MapError, PerfEventArray, PerfEventArrayBuffer};

/// The per-CPU buffers of one perf event array with an epoll set over them.
#[derive(Debug)]
pub struct PerfBuffer {
    name: String,
    buffers: Vec<(u32, PerfEventArrayBuffer)>,
    epoll: Epoll,
    ready: Vec<u64>,
    samples: Vec<Vec<u8>>,
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
            buffers.push((cpu, buffer));
        }
        Ok(PerfBuffer {
            ready: vec![0; buffers.len().max(1)],
            name,
            buffers,
            epoll,
            samples: Vec::new(),
        })
    }

    /// Waits up to `timeout` (`None`: until something arrives) for samples, then hands each
    /// to `on_sample(cpu, bytes)` and each CPU's count of dropped samples to `on_lost(cpu,
    /// count)`. Returns how many samples were handled.
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut on_sample: impl FnMut(u32, &[u8]),
        mut on_lost: impl FnMut(u32, u64),
    ) -> Result<usize, MapError> {
        let ready = self
            .epoll
            .wait(&mut self.ready, timeout)
            .map_err(|source| MapError::Io {
                name: self.name.clone(),
                what: "waiting on the perf buffers",
                source,
            })?;
        let mut handled = 0;
        for &token in &self.ready[..ready] {
            let Some((cpu, buffer)) = usize::try_from(token)
                .ok()
                .and_then(|index| self.buffers.get_mut(index))
            else {
                continue;
            };
            let events = buffer.read_events(&mut self.samples)?;
            for sample in self.samples.drain(..) {
                on_sample(*cpu, &sample);
            }
            if events.lost > 0 {
                on_lost(*cpu, events.lost);
            }
            handled += events.read;
        }
        Ok(handled)
    }

    /// The CPUs with a buffer.
    pub fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.buffers.iter().map(|(cpu, _)| *cpu)
    }
}
