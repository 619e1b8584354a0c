//! [`TracePipe`]: `bpf_printk` output for programs that have not moved to `bpf_log.h`.
//!
//! tracefs is mounted when it is not. Each reader gets its own tracefs instance with the `bpf_trace_printk` event enabled, so it
//! sees every line without taking lines from other readers of the global `trace_pipe`. The
//! kernel does not say which program printed a line; [`TracePipe::only_program`] keeps the
//! lines matching that program's `bpf_printk` formats (read from its `.rodata` through BTF).
//!
//! ```no_run
//! use bpf_programs::trace_pipe::TracePipe;
//! use std::time::Duration;
//!
//! let mut pipe = TracePipe::open()?.only_program(42)?;
//! while let Some(line) = pipe.next_line(Some(Duration::from_secs(1)))? {
//!     println!("{} [{}] {}", line.task, line.pid, line.message);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bpf_core::btf::TypeKind;
use bpf_core::log::PrintkFormat;

use crate::btf::btf_by_id;
use crate::maps::{MapData, MapInfo};
use crate::programs::ProgramInfo;

/// Why the trace pipe could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum TracePipeError {
    /// tracefs is not mounted and could not be mounted.
    #[error("the trace pipe")]
    Tracefs(#[source] crate::kernel::fs::KernelFsError),
    /// A tracefs file could not be used.
    #[error("{what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The program to filter on could not be read.
    #[error("program {id}: {reason}")]
    Program { id: u32, reason: String },
}

/// One line of `bpf_printk` output.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceLine {
    /// The task that was running (`comm`).
    pub task: String,
    pub pid: u32,
    pub cpu: u32,
    /// Seconds since boot.
    pub timestamp: f64,
    /// What the program printed.
    pub message: String,
}

impl TraceLine {
    /// Parses `  <task>-<pid> [cpu] flags timestamp: bpf_trace_printk: message`.
    pub fn parse(line: &str) -> Option<TraceLine> {
        let (head, message) = line.split_once(": bpf_trace_printk: ")?;
        let head = head.trim_start();
        let open = head.find(" [")?;
        let (task_pid, rest) = head.split_at(open);
        let (task, pid) = task_pid.rsplit_once('-')?;
        let close = rest.find(']')?;
        let cpu = rest[2..close].trim().parse().ok()?;
        let timestamp = rest[close + 1..]
            .split_whitespace()
            .last()?
            .trim_end_matches(':')
            .parse()
            .ok()?;
        Some(TraceLine {
            task: task.to_owned(),
            pid: pid.trim().parse().ok()?,
            cpu,
            timestamp,
            message: message.trim_end_matches('\n').to_owned(),
        })
    }
}

/// A private tracefs instance's `trace_pipe`, reading `bpf_printk` lines.
#[derive(Debug)]
pub struct TracePipe {
    pipe: File,
    instance: PathBuf,
    pending: Vec<u8>,
    formats: Option<Vec<PrintkFormat>>,
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> TracePipeError {
    let path = path.to_owned();
    move |source| TracePipeError::Io { what, path, source }
}

impl TracePipe {
    /// Creates a tracefs instance for this reader and enables `bpf_trace_printk` in it.
    pub fn open() -> Result<TracePipe, TracePipeError> {
        // Mounted on need (at /sys/kernel/tracing) when the process may mount it.
        let root = crate::kernel::fs::tracefs().map_err(TracePipeError::Tracefs)?;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let instance = root
            .join("instances")
            .join(format!("bpf_programs_{}_{n}", std::process::id()));
        std::fs::create_dir(&instance).map_err(io_error("creating tracefs instance", &instance))?;
        let enable = instance.join("events/bpf_trace/bpf_trace_printk/enable");
        let opened = std::fs::write(&enable, "1")
            .map_err(io_error("enabling bpf_trace_printk in", &enable))
            .and_then(|()| {
                let path = instance.join("trace_pipe");
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&path)
                    .map_err(io_error("opening", &path))
            });
        match opened {
            Ok(pipe) => Ok(TracePipe {
                pipe,
                instance,
                pending: Vec::new(),
                formats: None,
            }),
            Err(e) => {
                let _ = std::fs::remove_dir(&instance);
                Err(e)
            }
        }
    }

    /// Keeps only lines matching one of `formats` (printf formats, as passed to `bpf_printk`).
    pub fn only_formats<S: AsRef<str>>(mut self, formats: &[S]) -> TracePipe {
        self.formats = Some(
            formats
                .iter()
                .map(|f| PrintkFormat::new(f.as_ref()))
                .collect(),
        );
        self
    }

    /// Keeps only lines matching the `bpf_printk` formats of the loaded program `id`.
    pub fn only_program(self, id: u32) -> Result<TracePipe, TracePipeError> {
        let formats = printk_formats(id)?;
        Ok(self.only_formats(&formats))
    }

    /// The next line (matching the filter, if any), waiting up to `timeout` (`None`: forever);
    /// `None` when the time ran out.
    pub fn next_line(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<TraceLine>, TracePipeError> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let Some(parsed) = TraceLine::parse(&String::from_utf8_lossy(&line)) else {
                    continue;
                };
                let wanted = self
                    .formats
                    .as_ref()
                    .is_none_or(|fs| fs.iter().any(|f| f.matches(&parsed.message)));
                if wanted {
                    return Ok(Some(parsed));
                }
            }
            let mut chunk = [0u8; 4096];
            match self.pipe.read(&mut chunk) {
                Ok(0) => {}
                Ok(n) => {
                    self.pending.extend_from_slice(&chunk[..n]);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(io_error("reading", &self.instance)(e)),
            }
            let left = match deadline {
                Some(d) => match d.checked_duration_since(std::time::Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(None),
                },
                None => None,
            };
            bpf_sys::epoll::wait_readable(self.pipe.as_fd(), left)
                .map_err(io_error("waiting on", &self.instance))?;
        }
    }
}

impl Drop for TracePipe {
    fn drop(&mut self) {
        let enable = self
            .instance
            .join("events/bpf_trace/bpf_trace_printk/enable");
        let _ = std::fs::write(enable, "0");
        // The instance can only go once its trace_pipe is closed.
        let placeholder = File::open("/dev/null");
        if let Ok(placeholder) = placeholder {
            drop(std::mem::replace(&mut self.pipe, placeholder));
        }
        if let Err(e) = std::fs::remove_dir(&self.instance) {
            log::warn!("removing tracefs instance {}: {e}", self.instance.display());
        }
    }
}

/// The `bpf_printk` formats of loaded program `id`: the `*.____fmt` variables of its
/// `.rodata` maps, found through the maps' BTF.
pub fn printk_formats(id: u32) -> Result<Vec<String>, TracePipeError> {
    let error = |reason: String| TracePipeError::Program { id, reason };
    let info = ProgramInfo::from_id(id).map_err(|e| error(e.to_string()))?;
    let mut formats = Vec::new();
    for &map_id in info.map_ids() {
        let Ok(map) = MapInfo::from_id(map_id) else {
            continue;
        };
        if !map.name().contains(".rodata") || map.btf_id() == 0 {
            continue;
        }
        let btf = btf_by_id(map.btf_id()).map_err(|e| error(e.to_string()))?;
        let Ok(datasec) = btf.type_by_id(map.btf_value_type_id()) else {
            continue;
        };
        let TypeKind::Datasec(sec) = datasec.kind else {
            continue;
        };
        let data = MapData::from_id(map_id)
            .and_then(|d| d.lookup_bytes(&0u32.to_ne_bytes()))
            .map_err(|e| error(e.to_string()))?
            .unwrap_or_default();
        for var in sec.vars() {
            let name = btf.type_name(var.type_id).unwrap_or_default();
            if !name.ends_with("____fmt") {
                continue;
            }
            let start = var.offset as usize;
            let Some(bytes) = data.get(start..start + var.size as usize) else {
                continue;
            };
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            formats.push(String::from_utf8_lossy(&bytes[..end]).into_owned());
        }
    }
    Ok(formats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_lines_parse() {
        let line = TraceLine::parse(
            "    my-task-name-1234    [001] d..31  5678.123456: bpf_trace_printk: packet 3 of 64 bytes\n",
        )
        .unwrap();
        assert_eq!(line.task, "my-task-name");
        assert_eq!(line.pid, 1234);
        assert_eq!(line.cpu, 1);
        assert!((line.timestamp - 5678.123456).abs() < 1e-9);
        assert_eq!(line.message, "packet 3 of 64 bytes");
        assert!(TraceLine::parse("garbage").is_none());
    }
}
