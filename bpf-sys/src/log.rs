//! The log-buffer protocol shared by `BPF_PROG_LOAD` and `BPF_BTF_LOAD`.

use std::os::fd::OwnedFd;

use crate::error::{BpfCommand, LoadError, SyscallError, VerifierLog};

/// Smallest log buffer the kernel accepts.
const MIN_LOG_SIZE: usize = 128;
/// First log buffer offered when a log is wanted.
const INITIAL_LOG_SIZE: usize = 64 * 1024;
/// Largest log buffer every kernel accepts (`UINT_MAX >> 8`).
const MAX_LOG_SIZE: usize = (u32::MAX >> 8) as usize;
/// How often a load is retried on `EAGAIN` (the kernel asks for that on transient contention).
const EAGAIN_RETRIES: usize = 5;

/// One load attempt: `(log_level, log_buf)` in, the fd and the kernel's `log_true_size` out.
pub(crate) type Attempt<'f> =
    dyn FnMut(u32, &mut [u8]) -> (Result<OwnedFd, SyscallError>, u32) + 'f;

/// Runs `attempt` until it succeeds or fails for good, growing the log on `ENOSPC` and asking
/// for a log after a log-less failure so errors always carry the kernel's explanation.
pub(crate) fn load_with_log(
    cmd: BpfCommand,
    requested_level: u32,
    attempt: &mut Attempt<'_>,
) -> Result<(OwnedFd, VerifierLog), LoadError> {
    let mut log_level = requested_level;
    let mut log_buf: Vec<u8> = if log_level == 0 {
        Vec::new()
    } else {
        vec![0; INITIAL_LOG_SIZE]
    };
    loop {
        let (result, true_size) = retry_eagain(attempt, log_level, &mut log_buf);
        match result {
            Ok(fd) => return Ok((fd, VerifierLog::from_buf(&log_buf, false))),
            Err(_) if log_level == 0 => {
                log_level = 1;
                log_buf = vec![0; INITIAL_LOG_SIZE];
            }
            Err(e) if e.errno() == Some(libc::ENOSPC) && log_buf.len() < MAX_LOG_SIZE => {
                let true_size = true_size as usize;
                let wanted = if true_size > log_buf.len() {
                    true_size
                } else {
                    log_buf.len().saturating_mul(4)
                };
                log_buf = vec![0; wanted.clamp(MIN_LOG_SIZE, MAX_LOG_SIZE)];
            }
            Err(e) => {
                let truncated = e.errno() == Some(libc::ENOSPC);
                return Err(LoadError {
                    command: cmd.into(),
                    io_error: e.io_error,
                    verifier_log: VerifierLog::from_buf(&log_buf, truncated),
                });
            }
        }
    }
}

fn retry_eagain(
    attempt: &mut Attempt<'_>,
    log_level: u32,
    log_buf: &mut [u8],
) -> (Result<OwnedFd, SyscallError>, u32) {
    let mut tries = 0;
    loop {
        let (result, true_size) = attempt(log_level, log_buf);
        match result {
            Err(e) if e.errno() == Some(libc::EAGAIN) && tries < EAGAIN_RETRIES => tries += 1,
            other => return (other, true_size),
        }
    }
}
