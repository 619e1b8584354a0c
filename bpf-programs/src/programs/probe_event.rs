//! Dynamic probe events created through tracefs (`kprobe_events`, `uprobe_events`): the path
//! kprobes and uprobes take on kernels without the kprobe/uprobe perf PMUs.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bpf_sys::perf_event::tracepoint_id;

/// The tracefs group our events are created in, so they are easy to recognise and clean up.
const GROUP: &str = "bpf_programs";

static NEXT_EVENT: AtomicU64 = AtomicU64::new(0);

/// How a kprobe or uprobe reaches the kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProbeAttachMethod {
    /// The perf PMU when the kernel has it, else a tracefs probe event.
    #[default]
    Auto,
    /// Only the perf PMU (`/sys/bus/event_source/devices/<kprobe|uprobe>`).
    Pmu,
    /// Only a tracefs probe event (`kprobe_events`/`uprobe_events`).
    TraceFs,
}

/// Which dynamic event file a probe lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeEventFile {
    /// `kprobe_events`.
    Kprobe,
    /// `uprobe_events`.
    Uprobe,
}

impl ProbeEventFile {
    fn file_name(self) -> &'static str {
        match self {
            ProbeEventFile::Kprobe => "kprobe_events",
            ProbeEventFile::Uprobe => "uprobe_events",
        }
    }
}

/// A probe event registered in tracefs; removed again on drop (after its perf event is closed).
#[derive(Debug)]
pub struct ProbeEvent {
    events_file: PathBuf,
    name: String,
    id: u64,
}

/// The tracefs root (mounted first if need be) and its events file of `file`; `Unsupported`
/// when tracefs lacks it (a kernel without kprobe or uprobe events).
fn events_file(file: ProbeEventFile) -> io::Result<(&'static Path, PathBuf)> {
    let tracefs = crate::kernel::fs::tracefs().map_err(io::Error::other)?;
    let path = tracefs.join(file.file_name());
    if !path.exists() {
        let message = format!("tracefs has no {}", file.file_name());
        return Err(io::Error::new(io::ErrorKind::Unsupported, message));
    }
    Ok((tracefs, path))
}

impl ProbeEvent {
    /// Registers `probe` (e.g. `try_to_wake_up+0` or `/bin/bash:0x1234`) as an entry or
    /// return probe and returns the event, whose tracepoint id perf_event_open takes.
    pub fn create(file: ProbeEventFile, retprobe: bool, probe: &str) -> io::Result<ProbeEvent> {
        let (tracefs, events_file) = events_file(file)?;
        let name = format!(
            "p{}_{}",
            std::process::id(),
            NEXT_EVENT.fetch_add(1, Ordering::Relaxed)
        );
        let kind = if retprobe { 'r' } else { 'p' };
        append_line(&events_file, &format!("{kind}:{GROUP}/{name} {probe}"))?;
        // Built before reading the id, so a failed read still removes the event.
        let mut event = ProbeEvent {
            events_file,
            name,
            id: 0,
        };
        event.id = tracepoint_id(tracefs, GROUP, &event.name)?;
        Ok(event)
    }

    /// The event's tracepoint id.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for ProbeEvent {
    fn drop(&mut self) {
        let removal = format!("-:{GROUP}/{}", self.name);
        if let Err(e) = append_line(&self.events_file, &removal) {
            log::warn!("removing probe event {GROUP}/{}: {e}", self.name);
        }
    }
}

/// Writes one command to a tracefs events file without truncating the existing events.
fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).open(path)?;
    file.write_all(format!("{line}\n").as_bytes())
}
