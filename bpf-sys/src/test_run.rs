//! `BPF_PROG_TEST_RUN`: run a program once (or `repeat` times) on given input.

use std::os::fd::BorrowedFd;

use crate::error::{BpfCommand, SyscallError};
use crate::syscall::{fd_u32, len_u32, slice_mut_ptr, slice_ptr, sys_bpf, zeroed_attr};

/// Input and output buffers and options for one test run.
#[derive(Debug, Default)]
pub struct TestRunAttr<'a> {
    /// Packet (or other) data fed to the program.
    pub data_in: &'a [u8],
    /// Receives the data after the run, if given.
    pub data_out: Option<&'a mut [u8]>,
    /// Context (e.g. `__sk_buff`, `xdp_md`, tracing args) fed to the program.
    pub ctx_in: &'a [u8],
    /// Receives the context after the run, if given.
    pub ctx_out: Option<&'a mut [u8]>,
    /// Context the kernel writes back into (syscall programs copy their context back to
    /// the input); used instead of `ctx_in` when given.
    pub ctx_in_out: Option<&'a mut [u8]>,
    /// How many times to run (0 means once).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU to run on (with `BPF_F_TEST_RUN_ON_CPU`).
    pub cpu: u32,
    /// Frames per batch for XDP live-frames mode.
    pub batch_size: u32,
}

/// What a test run returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunOutput {
    /// The program's return value.
    pub retval: u32,
    /// Average run time in nanoseconds.
    pub duration_ns: u32,
    /// Bytes written to `data_out` (may exceed its length if the kernel truncated).
    pub data_size_out: u32,
    /// Bytes written to `ctx_out`.
    pub ctx_size_out: u32,
}

/// Runs the program `fd` under `BPF_PROG_TEST_RUN`.
pub fn prog_test_run(
    fd: BorrowedFd<'_>,
    attr: TestRunAttr<'_>,
) -> Result<TestRunOutput, SyscallError> {
    let (output, result) = prog_test_run_reporting(fd, attr);
    result.map(|()| output)
}

/// Runs the program `fd` under `BPF_PROG_TEST_RUN` and returns what the kernel wrote back even
/// when the call failed: with ENOSPC (an output buffer too small, filled as far as it goes)
/// the sizes are those the output needed.
pub fn prog_test_run_reporting(
    fd: BorrowedFd<'_>,
    attr: TestRunAttr<'_>,
) -> (TestRunOutput, Result<(), SyscallError>) {
    let mut output = TestRunOutput {
        retval: 0,
        duration_ns: 0,
        data_size_out: 0,
        ctx_size_out: 0,
    };
    let result = run(fd, attr, &mut output);
    (output, result)
}

fn run(
    fd: BorrowedFd<'_>,
    attr: TestRunAttr<'_>,
    output: &mut TestRunOutput,
) -> Result<(), SyscallError> {
    let cmd = BpfCommand::ProgTestRun;
    let mut raw = zeroed_attr();
    // SAFETY: writing plain fields of the test member of a zeroed union; every pointer refers
    // to a buffer borrowed by `attr` with its exact length beside it.
    let t = unsafe { &mut raw.test };
    t.prog_fd = fd_u32(fd);
    t.data_in = slice_ptr(attr.data_in);
    t.data_size_in = len_u32(cmd, attr.data_in.len())?;
    if let Some(out) = attr.data_out {
        t.data_size_out = len_u32(cmd, out.len())?;
        t.data_out = slice_mut_ptr(out);
    }
    match attr.ctx_in_out {
        Some(ctx) => {
            t.ctx_size_in = len_u32(cmd, ctx.len())?;
            t.ctx_in = slice_mut_ptr(ctx);
        }
        None => {
            t.ctx_in = slice_ptr(attr.ctx_in);
            t.ctx_size_in = len_u32(cmd, attr.ctx_in.len())?;
        }
    }
    if let Some(out) = attr.ctx_out {
        t.ctx_size_out = len_u32(cmd, out.len())?;
        t.ctx_out = slice_mut_ptr(out);
    }
    t.repeat = attr.repeat;
    t.flags = attr.flags;
    t.cpu = attr.cpu;
    t.batch_size = attr.batch_size;
    let result = sys_bpf(cmd, &mut raw).map(drop);
    // SAFETY: reading plain integers the kernel wrote back into the test member.
    let t = unsafe { raw.test };
    *output = TestRunOutput {
        retval: t.retval,
        duration_ns: t.duration,
        data_size_out: t.data_size_out,
        ctx_size_out: t.ctx_size_out,
    };
    result
}
