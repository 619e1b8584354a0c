//! `BPF_PROG_TEST_RUN` for every program type: [`TestRunOptions`] in, [`TestRunOutput`] out.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use bpf_sys::generated::{bpf_attach_type, bpf_prog_type};
use bpf_sys::test_run::{TestRunAttr, prog_test_run_reporting};

bitflags::bitflags! {
    /// `BPF_F_TEST_*` flags of a test run.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TestRunFlags: u32 {
        /// `BPF_F_TEST_RUN_ON_CPU`: run on [`TestRunOptions::cpu`] (raw_tracepoint programs).
        const RUN_ON_CPU = bpf_sys::generated::BPF_F_TEST_RUN_ON_CPU;
        /// `BPF_F_TEST_XDP_LIVE_FRAMES`: XDP verdicts act for real (frames are transmitted or
        /// redirected), in batches of [`TestRunOptions::batch_size`].
        const XDP_LIVE_FRAMES = bpf_sys::generated::BPF_F_TEST_XDP_LIVE_FRAMES;
        /// `BPF_F_TEST_SKB_CHECKSUM_COMPLETE`: the skb carries a complete checksum.
        const SKB_CHECKSUM_COMPLETE = bpf_sys::generated::BPF_F_TEST_SKB_CHECKSUM_COMPLETE;
    }
}

/// Input, output buffers and options of one test run; every part is optional.
///
/// Output buffers are the caller's: nothing is allocated per run (but for a syscall program
/// run without `context_out`: the kernel writes its context back, into a copy then). Programs
/// see as input what
/// their type takes: packet data (skb and XDP programs, flow dissector), a context
/// (`__sk_buff`, `xdp_md`, `bpf_sk_lookup`, a raw tracepoint's arguments, a syscall program's
/// struct, `bpf_nf_ctx`), or both.
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::TestRunOptions;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program = bpf.program_mut("filter").unwrap();
/// program.load()?;
/// let packet = [0u8; 64];
/// let mut out = [0u8; 128];
/// let run = program.test_run(TestRunOptions::new().data(&packet).data_out(&mut out).repeat(100))?;
/// println!("returned {} after {:?} per run", run.return_value, run.duration);
/// let written = &out[..run.data_len];
/// # let _ = written;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct TestRunOptions<'a> {
    data_in: &'a [u8],
    data_out: Option<&'a mut [u8]>,
    ctx_in: &'a [u8],
    ctx_out: Option<&'a mut [u8]>,
    repeat: u32,
    flags: TestRunFlags,
    cpu: u32,
    batch_size: u32,
}

impl<'a> TestRunOptions<'a> {
    /// No input, no output buffers, one run.
    pub fn new() -> Self {
        Self::default()
    }

    /// The packet (or other data) the program reads.
    pub fn data(mut self, data: &'a [u8]) -> Self {
        self.data_in = data;
        self
    }

    /// Receives the data after the run ([`TestRunOutput::data_len`] bytes of it are written).
    pub fn data_out(mut self, buffer: &'a mut [u8]) -> Self {
        self.data_out = Some(buffer);
        self
    }

    /// The context the program is called with (`__sk_buff`, `xdp_md`, …).
    pub fn context(mut self, context: &'a [u8]) -> Self {
        self.ctx_in = context;
        self
    }

    /// Receives the context after the run ([`TestRunOutput::context_len`] bytes of it).
    pub fn context_out(mut self, buffer: &'a mut [u8]) -> Self {
        self.ctx_out = Some(buffer);
        self
    }

    /// Runs the program this many times ([`TestRunOutput::duration`] is the average).
    pub fn repeat(mut self, repeat: u32) -> Self {
        self.repeat = repeat;
        self
    }

    /// `BPF_F_TEST_*` flags.
    pub fn flags(mut self, flags: TestRunFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Runs on this CPU (sets [`TestRunFlags::RUN_ON_CPU`]).
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = cpu;
        self.flags |= TestRunFlags::RUN_ON_CPU;
        self
    }

    /// Frames per batch in XDP live-frames mode.
    pub fn batch_size(mut self, batch_size: u32) -> Self {
        self.batch_size = batch_size;
        self
    }
}

/// What a test run returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestRunOutput {
    /// The program's return value.
    pub return_value: u32,
    /// Bytes of output data (the start of the `data_out` buffer holds them; reported even
    /// without a buffer).
    pub data_len: usize,
    /// Bytes of output context written to the `context_out` buffer.
    pub context_len: usize,
    /// Average time of one run, as the kernel measured it.
    pub duration: Duration,
}

/// Names a program type (and, for tracing programs, its attach type) as sections do.
fn type_name(prog_type: bpf_prog_type::Type, attach_type: Option<u32>) -> &'static str {
    match (prog_type, attach_type) {
        (bpf_prog_type::BPF_PROG_TYPE_TRACING, Some(bpf_attach_type::BPF_TRACE_RAW_TP)) => "tp_btf",
        (bpf_prog_type::BPF_PROG_TYPE_TRACING, Some(bpf_attach_type::BPF_TRACE_ITER)) => "iter",
        _ => bpf_core::names::prog_type_name(prog_type).unwrap_or("unknown"),
    }
}

/// Whether the kernel has a test-run operation for the type: the `test_run` members of its
/// `bpf_prog_ops`. Tracing programs run the kernel's `bpf_fentry_test*` functions, so only
/// fentry, fexit and fmod_ret ones (an unknown attach type, of a pinned program, is let through).
pub(crate) fn can_test_run(prog_type: bpf_prog_type::Type, attach_type: Option<u32>) -> bool {
    use bpf_attach_type::*;
    use bpf_prog_type::*;
    match prog_type {
        BPF_PROG_TYPE_SOCKET_FILTER
        | BPF_PROG_TYPE_SCHED_CLS
        | BPF_PROG_TYPE_SCHED_ACT
        | BPF_PROG_TYPE_XDP
        | BPF_PROG_TYPE_CGROUP_SKB
        | BPF_PROG_TYPE_LWT_IN
        | BPF_PROG_TYPE_LWT_OUT
        | BPF_PROG_TYPE_LWT_XMIT
        | BPF_PROG_TYPE_LWT_SEG6LOCAL
        | BPF_PROG_TYPE_FLOW_DISSECTOR
        | BPF_PROG_TYPE_RAW_TRACEPOINT
        | BPF_PROG_TYPE_STRUCT_OPS
        | BPF_PROG_TYPE_SK_LOOKUP
        | BPF_PROG_TYPE_SYSCALL
        | BPF_PROG_TYPE_NETFILTER => true,
        BPF_PROG_TYPE_TRACING => attach_type.is_none_or(|attach| {
            matches!(
                attach,
                BPF_TRACE_FENTRY | BPF_TRACE_FEXIT | BPF_MODIFY_RETURN
            )
        }),
        _ => false,
    }
}

/// A test run refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestRunError {
    /// The kernel has no `BPF_PROG_TEST_RUN` for programs of this type (decided from the
    /// type, without asking the kernel).
    #[error("program `{program}`: the kernel cannot test-run {prog_type} programs")]
    NotSupported {
        program: String,
        /// The type as sections name it (`kprobe`, `tp_btf`, …).
        prog_type: &'static str,
    },

    /// An output buffer was smaller than the output, which was cut to fit (ENOSPC).
    #[error(
        "program `{program}`: test run output needs {needed} bytes, the {buffer} buffer has {given}"
    )]
    BufferTooSmall {
        program: String,
        /// `data_out` or `context_out`.
        buffer: &'static str,
        needed: usize,
        given: usize,
    },

    /// The kernel refused the run (EINVAL: an input the type does not take, or too short).
    #[error("program `{program}`: test run")]
    Run {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
}

/// Refuses, by type, programs the kernel cannot test-run.
pub(crate) fn check_supported(
    program: &str,
    prog_type: bpf_prog_type::Type,
    attach_type: Option<u32>,
) -> Result<(), TestRunError> {
    if can_test_run(prog_type, attach_type) {
        return Ok(());
    }
    Err(TestRunError::NotSupported {
        program: program.to_owned(),
        prog_type: type_name(prog_type, attach_type),
    })
}

/// Runs the program `fd` (named `program`, of type `prog_type`) on the input of `options`.
pub(crate) fn run(
    fd: BorrowedFd<'_>,
    program: &str,
    prog_type: bpf_prog_type::Type,
    options: TestRunOptions<'_>,
) -> Result<TestRunOutput, TestRunError> {
    let TestRunOptions {
        data_in,
        data_out,
        ctx_in,
        mut ctx_out,
        repeat,
        flags,
        cpu,
        batch_size,
    } = options;
    let data_given = data_out.as_ref().map(|out| out.len());
    let ctx_given = ctx_out.as_ref().map(|out| out.len());
    // Syscall programs copy their context back over the input: into the caller's context
    // buffer when there is one, else into a copy (the input is only borrowed).
    let mut copy;
    let mut ctx_in_out = None;
    let mut written_back = 0;
    if prog_type == bpf_prog_type::BPF_PROG_TYPE_SYSCALL && !ctx_in.is_empty() {
        let buffer = match ctx_out.take() {
            Some(out) if out.len() >= ctx_in.len() => {
                written_back = ctx_in.len();
                &mut out[..ctx_in.len()]
            }
            Some(out) => {
                return Err(TestRunError::BufferTooSmall {
                    program: program.to_owned(),
                    buffer: "context_out",
                    needed: ctx_in.len(),
                    given: out.len(),
                });
            }
            None => {
                copy = ctx_in.to_vec();
                &mut copy[..]
            }
        };
        buffer.copy_from_slice(ctx_in);
        ctx_in_out = Some(buffer);
    }
    let attr = TestRunAttr {
        data_in,
        data_out,
        ctx_in,
        ctx_out,
        ctx_in_out,
        repeat,
        flags: flags.bits(),
        cpu,
        batch_size,
    };
    let (output, result) = prog_test_run_reporting(fd, attr);
    if let Err(source) = result {
        return Err(run_error(program, source, &output, data_given, ctx_given));
    }
    Ok(TestRunOutput {
        return_value: output.retval,
        data_len: output.data_size_out as usize,
        context_len: (output.ctx_size_out as usize).max(written_back),
        duration: Duration::from_nanos(output.duration_ns.into()),
    })
}

/// ENOSPC names the output buffer that was too small and the size its output needed.
fn run_error(
    program: &str,
    source: bpf_sys::SyscallError,
    output: &bpf_sys::test_run::TestRunOutput,
    data_given: Option<usize>,
    ctx_given: Option<usize>,
) -> TestRunError {
    if source.errno() == Some(libc::ENOSPC) {
        let too_small = [
            ("data_out", data_given, output.data_size_out as usize),
            ("context_out", ctx_given, output.ctx_size_out as usize),
        ]
        .into_iter()
        .find_map(|(buffer, given, needed)| {
            let given = given.filter(|&given| needed > given)?;
            Some((buffer, given, needed))
        });
        if let Some((buffer, given, needed)) = too_small {
            return TestRunError::BufferTooSmall {
                program: program.to_owned(),
                buffer,
                needed,
                given,
            };
        }
    }
    TestRunError::Run {
        program: program.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracing_programs_run_only_on_trampolines() {
        let tracing = bpf_prog_type::BPF_PROG_TYPE_TRACING;
        assert!(can_test_run(
            tracing,
            Some(bpf_attach_type::BPF_TRACE_FENTRY)
        ));
        assert!(can_test_run(
            tracing,
            Some(bpf_attach_type::BPF_MODIFY_RETURN)
        ));
        assert!(!can_test_run(
            tracing,
            Some(bpf_attach_type::BPF_TRACE_ITER)
        ));
        assert_eq!(
            type_name(tracing, Some(bpf_attach_type::BPF_TRACE_RAW_TP)),
            "tp_btf"
        );
    }

    #[test]
    fn names_follow_the_uapi_order() {
        assert_eq!(
            type_name(bpf_prog_type::BPF_PROG_TYPE_NETFILTER, None),
            "netfilter"
        );
        assert_eq!(
            type_name(bpf_prog_type::BPF_PROG_TYPE_KPROBE, None),
            "kprobe"
        );
        assert!(!can_test_run(bpf_prog_type::BPF_PROG_TYPE_KPROBE, None));
        assert!(can_test_run(bpf_prog_type::BPF_PROG_TYPE_SK_LOOKUP, None));
    }
}
