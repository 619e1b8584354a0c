//! `perf_event` programs: run on each sample of a perf event (timers, counters, breakpoints).

use std::os::fd::AsFd;

use bpf_sys::generated::perf_type_id;
use bpf_sys::perf_event::{PerfEventAttr, PerfEventFlags, perf_event_open};

use super::ProgramError;
pub use super::attach_options::PerfEventScope;
use super::links::define_link_wrapper;
use super::perf_attach::{PerfLinkInner, PerfTarget, perf_attach};
pub use super::type_errors::PerfEventError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

/// `config` values of [`PerfTypeId::Software`] (`perf_sw_ids::PERF_COUNT_SW_CPU_CLOCK`, ...) and
/// [`PerfTypeId::Hardware`] (`perf_hw_id::PERF_COUNT_HW_CPU_CYCLES`, ...) events.
pub use bpf_sys::generated::{perf_hw_id, perf_sw_ids};

/// The kind of perf event (`PERF_TYPE_*`), or a dynamic PMU's type number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfTypeId {
    /// CPU hardware counters (`PERF_COUNT_HW_*`).
    Hardware,
    /// Kernel software counters (`PERF_COUNT_SW_*`, e.g. the CPU clock).
    Software,
    /// Tracepoints (by tracefs id).
    TracePoint,
    /// Hardware cache events.
    HwCache,
    /// Raw PMU events.
    Raw,
    /// Hardware breakpoints.
    Breakpoint,
    /// A dynamic PMU, by `/sys/bus/event_source/devices/<pmu>/type`.
    Pmu(u32),
}

impl PerfTypeId {
    fn raw(self) -> u32 {
        match self {
            PerfTypeId::Hardware => perf_type_id::PERF_TYPE_HARDWARE,
            PerfTypeId::Software => perf_type_id::PERF_TYPE_SOFTWARE,
            PerfTypeId::TracePoint => perf_type_id::PERF_TYPE_TRACEPOINT,
            PerfTypeId::HwCache => perf_type_id::PERF_TYPE_HW_CACHE,
            PerfTypeId::Raw => perf_type_id::PERF_TYPE_RAW,
            PerfTypeId::Breakpoint => perf_type_id::PERF_TYPE_BREAKPOINT,
            PerfTypeId::Pmu(raw) => raw,
        }
    }
}

/// When the program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplePolicy {
    /// Every `n` events.
    Period(u64),
    /// `n` times per second.
    Frequency(u64),
}

define_link_wrapper!(
    /// A perf event attachment.
    PerfEventLink,
    PerfEventLinkId,
    PerfLinkInner
);

/// A `perf_event` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::PerfEvent;
/// use bpf_programs::programs::{PerfTypeId, SamplePolicy};
/// use bpf_sys::generated::perf_sw_ids;
///
/// // SEC("perf_event") int sample(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut PerfEvent = bpf.program_mut("sample").unwrap().try_into()?;
/// program.load()?;
/// // 99 samples a second of the CPU clock, on every online CPU.
/// program.attach_on_every_cpu(
///     PerfTypeId::Software,
///     u64::from(perf_sw_ids::PERF_COUNT_SW_CPU_CLOCK),
///     SamplePolicy::Frequency(99),
/// )?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type PerfEvent = TypedProgram<PerfEventKind>;

/// The kind of [`PerfEvent`] programs.
#[derive(Debug)]
pub enum PerfEventKind {}

impl ProgramKind for PerfEventKind {
    type Link = PerfEventLink;
}

impl LoadWithoutArguments for PerfEventKind {}

impl PerfEvent {
    /// Opens a perf event and runs the program on its samples; `inherit` extends a task
    /// scope to the children the task creates afterwards.
    ///
    /// Each attach opens its own event, so attaching twice runs the program on both; for
    /// [`PerfTypeId::TracePoint`] the kernel shares one program list per tracepoint and refuses
    /// the same program twice with [`ProgramError::AlreadyAttached`].
    pub fn attach(
        &mut self,
        perf_type: PerfTypeId,
        config: u64,
        scope: PerfEventScope,
        sample_policy: SamplePolicy,
        inherit: bool,
    ) -> Result<PerfEventLinkId, ProgramError> {
        let (sample, mut flags) = match sample_policy {
            SamplePolicy::Period(n) => (n, PerfEventFlags::DISABLED),
            SamplePolicy::Frequency(n) => (n, PerfEventFlags::DISABLED | PerfEventFlags::FREQ),
        };
        if inherit {
            flags |= PerfEventFlags::INHERIT;
        }
        let attr = PerfEventAttr {
            type_: perf_type.raw(),
            config,
            sample,
            flags,
            ..Default::default()
        };
        let (pid, cpu) = scope.pid_cpu();
        let perf_fd =
            perf_event_open(&attr, pid, cpu, None, 0).map_err(|source| PerfEventError::Open {
                program: self.data.name().to_owned(),
                perf_type: perf_type.raw(),
                config,
                scope,
                source,
            })?;
        let prog_fd = self.data.fd()?;
        let target = PerfTarget {
            program: self.data.name(),
            event: &|| {
                format!(
                    "perf event (type {}, config {config:#x}, {scope:?})",
                    perf_type.raw()
                )
            },
        };
        let inner = perf_attach(target, prog_fd.as_fd(), perf_fd, 0)?;
        Ok(self.data.links.insert(PerfEventLink::new(inner)))
    }

    /// Attaches a system-wide event on every online CPU, as profilers do (libbpf's `profile`
    /// example); all or nothing: a failure detaches what was attached.
    pub fn attach_on_every_cpu(
        &mut self,
        perf_type: PerfTypeId,
        config: u64,
        sample_policy: SamplePolicy,
    ) -> Result<Vec<PerfEventLinkId>, ProgramError> {
        let cpus = bpf_sys::util::online_cpus().map_err(PerfEventError::OnlineCpus)?;
        let mut links = Vec::with_capacity(cpus.len());
        for cpu in cpus {
            let scope = PerfEventScope::AllProcessesOneCpu { cpu };
            match self.attach(perf_type, config, scope, sample_policy, false) {
                Ok(link) => links.push(link),
                Err(e) => {
                    for link in links {
                        let _ = self.detach(link);
                    }
                    return Err(e);
                }
            }
        }
        Ok(links)
    }
}
