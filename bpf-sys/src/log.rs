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
    // The errno of the log-less attempt: with a log the kernel answers ENOSPC whenever the log
    // overflows, which hides the real refusal (E2BIG for a program too complex, EACCES, ...).
    let mut logless_error: Option<SyscallError> = None;
    loop {
        let (result, true_size) = retry_eagain(attempt, log_level, &mut log_buf);
        match result {
            Ok(fd) => return Ok((fd, VerifierLog::from_buf(&log_buf, false))),
            Err(e) if log_level == 0 => {
                logless_error = Some(e);
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
                let io_error = match logless_error {
                    // The log did not fit even at its largest: the kernel's ENOSPC is about the
                    // log, not the program; report why the program itself was refused.
                    Some(first) if truncated => first.io_error,
                    _ if truncated => {
                        // A log was asked for from the start: learn the real outcome without one.
                        let mut no_log: Vec<u8> = Vec::new();
                        match retry_eagain(attempt, 0, &mut no_log).0 {
                            Ok(fd) => return Ok((fd, VerifierLog::from_buf(&log_buf, true))),
                            Err(real) => real.io_error,
                        }
                    }
                    _ => e.io_error,
                };
                return Err(LoadError {
                    command: cmd.into(),
                    io_error,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Command;

    fn failing(errno: i32) -> (Result<OwnedFd, SyscallError>, u32) {
        (
            Err(SyscallError::from_errno(
                Command::Bpf(BpfCommand::ProgLoad),
                errno,
            )),
            0,
        )
    }

    /// The verifier's answer to a program too complex to verify: E2BIG without a log, and a
    /// log longer than any buffer (ENOSPC) with one.
    fn too_complex(log_level: u32, log: &mut [u8]) -> (Result<OwnedFd, SyscallError>, u32) {
        if log_level == 0 {
            return failing(libc::E2BIG);
        }
        log.fill(b'x');
        failing(libc::ENOSPC)
    }

    #[test]
    fn a_log_too_big_to_fit_does_not_hide_why_the_load_failed() {
        let err = load_with_log(BpfCommand::ProgLoad, 0, &mut too_complex).unwrap_err();
        assert_eq!(err.errno(), Some(libc::E2BIG));
        assert!(err.verifier_log.truncated);

        // Asked for a log from the start: a log-less attempt learns the real errno.
        let err = load_with_log(BpfCommand::ProgLoad, 1, &mut too_complex).unwrap_err();
        assert_eq!(err.errno(), Some(libc::E2BIG));
    }

    #[test]
    fn a_plain_rejection_keeps_its_errno_and_log() {
        let mut rejected = |log_level: u32, log: &mut [u8]| {
            if log_level > 0 {
                log[..5].copy_from_slice(b"R1 !!");
            }
            failing(libc::EACCES)
        };
        let err = load_with_log(BpfCommand::ProgLoad, 0, &mut rejected).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EACCES));
        assert_eq!(err.verifier_log.text, "R1 !!");
        assert!(!err.verifier_log.truncated);
    }
}
