//! [`BpfLogger`]: records written by `bpf_log_*()` calls (the C header `bpf_log.h`) forwarded
//! to the `log` crate, so `env_logger` or `tracing` users see them beside their own lines.
//!
//! ```no_run
//! use bpf_programs::{Bpf, BpfLoader, logger::{BpfLogger, set_bpf_log_level}};
//!
//! let mut loader = BpfLoader::new();
//! set_bpf_log_level(&mut loader, log::LevelFilter::Debug); // the BPF side's run-time level
//! let mut bpf = loader.load_file("prog.bpf.o")?;
//! let logger = BpfLogger::init(&mut bpf)?;                  // checks every call site's format
//! let _forwarding = logger.spawn()?;                         // or poll `logger` yourself
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A record's `target` is the C function holding the call (the program's name for calls in
//! its body) and its level the call's. Formatting happens here, once per record, into a reused
//! buffer; records below `log::max_level()` are skipped unformatted.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bpf_core::log::{
    LOG_DROPPED_GLOBAL, LOG_LEVEL_GLOBAL, LOG_RINGBUF, LogSectionError, LogSite, LogSites,
};

use crate::maps::{GlobalData, MapData, MapError, RingBuf};
use crate::{Bpf, BpfLoader};

/// The text of `bpf_log.h`, for build tools that install it beside the generated `vmlinux.h`.
pub const BPF_LOG_H: &str = include_str!("../include/bpf_log.h");

/// Why [`BpfLogger::init`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoggerError {
    /// The object has no `.bpf_log` section: no source file included `bpf_log.h`.
    #[error("the object has no `.bpf_log` section: it was not built with bpf_log.h")]
    NoLogSection,
    /// The object has the section but not the ring buffer the header declares.
    #[error("the object has no `{LOG_RINGBUF}` ring buffer map (declared by bpf_log.h)")]
    NoRingBuffer,
    /// A call site that cannot be decoded (wrong argument for its format, …).
    #[error("bpf_log call sites")]
    Sites(#[source] LogSectionError),
    /// Opening the ring buffer failed.
    #[error("the log ring buffer")]
    Map(#[source] MapError),
}

/// Sets the BPF side's run-time level (`bpf_log_level`) before the object is opened; calls
/// above it are skipped in the kernel. Levels above `BPF_LOG_MAX_LEVEL` were compiled out.
pub fn set_bpf_log_level(loader: &mut BpfLoader, level: log::LevelFilter) -> &mut BpfLoader {
    loader.set_global(LOG_LEVEL_GLOBAL, &(level as usize as u32))
}

/// Sets the BPF side's run-time level on an opened, not yet loaded object
/// ([`Bpf::open`](crate::Bpf::open)); fails when the object does not include `bpf_log.h`.
pub fn set_open_bpf_log_level(
    open: &mut crate::OpenBpf,
    level: log::LevelFilter,
) -> Result<(), bpf_core::obj::SetGlobalError> {
    open.set_global(LOG_LEVEL_GLOBAL, &(level as usize as u32))
}

/// One decoded record.
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    /// The call's level.
    pub level: log::Level,
    /// The C function holding the call.
    pub target: &'a str,
    /// The formatted message.
    pub message: &'a str,
    /// The call site (format, argument kinds).
    pub site: &'a LogSite,
}

/// Reads the `bpf_log.h` ring buffer of one object and forwards its records.
#[derive(Debug)]
pub struct BpfLogger {
    events: RingBuf<MapData>,
    sites: LogSites,
    dropped: Option<GlobalData<MapData>>,
    dropped_seen: u64,
    text: String,
}

impl BpfLogger {
    /// Opens the object's log ring buffer and checks every call site; `bpf` keeps its maps.
    pub fn init(bpf: &mut Bpf) -> Result<BpfLogger, LoggerError> {
        let section = bpf.log_section().ok_or(LoggerError::NoLogSection)?;
        let sites = LogSites::parse(section).map_err(LoggerError::Sites)?;
        let ring = bpf.map(LOG_RINGBUF).ok_or(LoggerError::NoRingBuffer)?;
        let events = RingBuf::new(ring.data().try_clone().map_err(LoggerError::Map)?)
            .map_err(LoggerError::Map)?;
        // The loss counter lives in `.bss`; without it (or its mapping) losses go unreported.
        let dropped = bpf
            .maps()
            .map(|(_, m)| m.data())
            .find(|d| d.variables().iter().any(|v| v.name == LOG_DROPPED_GLOBAL))
            .and_then(|d| d.try_clone().ok())
            .and_then(|d| GlobalData::new(d).ok());
        Ok(BpfLogger {
            events,
            sites,
            dropped,
            dropped_seen: 0,
            text: String::new(),
        })
    }

    /// The object's call sites.
    pub fn sites(&self) -> &LogSites {
        &self.sites
    }

    /// Records the BPF side could not write because the ring buffer was full, so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
            .as_ref()
            .and_then(|d| d.get::<u64>(LOG_DROPPED_GLOBAL).ok())
            .unwrap_or(0)
    }

    /// The log ring buffer, for the async reader's wait.
    #[cfg(feature = "tokio")]
    pub(crate) fn ring_mut(&mut self) -> &mut RingBuf<MapData> {
        &mut self.events
    }

    /// Waits up to `timeout` (`None`: forever) for records; false on timeout.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, MapError> {
        self.events.wait(timeout)
    }

    /// Forwards every record available now to the `log` crate; returns how many were read.
    /// New losses are reported once as a warning (target `bpf_log`).
    pub fn flush(&mut self) -> usize {
        let logger = log::logger();
        let max = log::max_level();
        let read = self.drain_filtered(max, |record| {
            let metadata = log::Metadata::builder()
                .level(record.level)
                .target(record.target)
                .build();
            if logger.enabled(&metadata) {
                logger.log(
                    &log::Record::builder()
                        .metadata(metadata)
                        .args(format_args!("{}", record.message))
                        .build(),
                );
            }
        });
        let dropped = self.dropped();
        if dropped > self.dropped_seen {
            log::warn!(
                target: "bpf_log",
                "{} records lost: the `{LOG_RINGBUF}` ring buffer was full",
                dropped - self.dropped_seen
            );
            self.dropped_seen = dropped;
        }
        read
    }

    /// Hands every record available now to `each` instead of the `log` crate.
    pub fn drain(&mut self, each: impl FnMut(LogRecord<'_>)) -> usize {
        self.drain_filtered(log::LevelFilter::Trace, each)
    }

    fn drain_filtered(
        &mut self,
        max: log::LevelFilter,
        mut each: impl FnMut(LogRecord<'_>),
    ) -> usize {
        let mut read = 0;
        while let Some(item) = self.events.next() {
            read += 1;
            let result = match self.sites.site_of(&item) {
                Ok(site) if site.level.to_log() > max => continue,
                Ok(_) => self.sites.format_record(&item, &mut self.text),
                Err(e) => Err(e),
            };
            match result {
                Ok(site) => each(LogRecord {
                    level: site.level.to_log(),
                    target: &site.function,
                    message: &self.text,
                    site,
                }),
                Err(e) => log::warn!(target: "bpf_log", "undecodable log record: {e}"),
            }
        }
        read
    }

    /// Forwards records from a background thread until the returned handle is stopped or
    /// dropped.
    pub fn spawn(self) -> std::io::Result<LoggerThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("bpf-logger".into())
            .spawn(move || {
                let mut logger = self;
                while !flag.load(Ordering::Relaxed) {
                    // A bounded wait, so a stop request is seen within that time.
                    if let Err(e) = logger.wait(Some(Duration::from_millis(50))) {
                        log::warn!(target: "bpf_log", "waiting for log records: {e}");
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    logger.flush();
                }
                logger.flush();
                logger
            })?;
        Ok(LoggerThread {
            stop,
            handle: Some(handle),
        })
    }
}

impl AsFd for BpfLogger {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.events.as_fd()
    }
}

/// The thread [`BpfLogger::spawn`] started; dropping it stops the thread after a last flush.
#[derive(Debug)]
pub struct LoggerThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<BpfLogger>>,
}

impl LoggerThread {
    /// Stops the thread after it has forwarded what is pending, and gives the logger back.
    pub fn stop(mut self) -> Option<BpfLogger> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take()?.join().ok()
    }
}

impl Drop for LoggerThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// A [`BpfLogger`] that waits on the Tokio reactor instead of a thread of its own: await
/// [`run`](Self::run) in a task, or [`flush`](Self::flush) beside other readers in one
/// `tokio::select!` (every method is cancel-safe: a cancelled wait loses no record).
///
/// ```no_run
/// # async fn f(bpf: &mut bpf_programs::Bpf) -> Result<(), Box<dyn std::error::Error>> {
/// use bpf_programs::logger::{AsyncBpfLogger, BpfLogger};
/// let logger = AsyncBpfLogger::new(BpfLogger::init(bpf)?)?;
/// tokio::spawn(logger.run());
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct AsyncBpfLogger {
    logger: BpfLogger,
    /// A duplicate of the log ring buffer's fd, registered with the reactor.
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

#[cfg(feature = "tokio")]
impl AsyncBpfLogger {
    /// Registers the logger's ring buffer with the reactor of the Tokio runtime this runs in.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn new(mut logger: BpfLogger) -> Result<Self, MapError> {
        let fd = crate::maps::ring_buf_async::register(logger.ring_mut())?;
        Ok(AsyncBpfLogger { logger, fd })
    }

    /// Waits for records, then forwards every one ready to the `log` crate; returns how many.
    pub async fn flush(&mut self) -> Result<usize, MapError> {
        crate::maps::ring_buf_async::readable(self.logger.ring_mut(), &self.fd).await?;
        Ok(self.logger.flush())
    }

    /// Waits for records, then hands every one ready to `each`; returns how many.
    pub async fn drain(&mut self, each: impl FnMut(LogRecord<'_>)) -> Result<usize, MapError> {
        crate::maps::ring_buf_async::readable(self.logger.ring_mut(), &self.fd).await?;
        Ok(self.logger.drain(each))
    }

    /// Forwards records to the `log` crate until the future is dropped or waiting fails.
    pub async fn run(mut self) -> Result<std::convert::Infallible, MapError> {
        loop {
            self.flush().await?;
        }
    }

    /// The logger, deregistered (e.g. for [`BpfLogger::spawn`]).
    pub fn into_inner(self) -> BpfLogger {
        self.logger
    }
}
