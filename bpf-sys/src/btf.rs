//! `BPF_BTF_LOAD`, with the same log handling as program loads.

use std::os::fd::{BorrowedFd, OwnedFd};

use crate::error::{BpfCommand, BtfLoadError, LoadError, VerifierLog};
use crate::generated::bpf_attr;
use crate::log::load_with_log;
use crate::syscall::{BPF_F_TOKEN_FD, opt_fd_u32, slice_ptr, sys_bpf_fd, zeroed_attr};

/// Loads raw BTF (header, types, strings); on failure the error carries the kernel's BTF log.
pub fn btf_load(
    data: &[u8],
    log_level: u32,
    token_fd: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, BtfLoadError> {
    btf_load_with_log(data, log_level, token_fd).map(|(fd, _)| fd)
}

/// Loads raw BTF and also returns the log requested by `log_level`.
pub fn btf_load_with_log(
    data: &[u8],
    log_level: u32,
    token_fd: Option<BorrowedFd<'_>>,
) -> Result<(OwnedFd, VerifierLog), BtfLoadError> {
    let cmd = BpfCommand::BtfLoad;
    let size = u32::try_from(data.len()).map_err(|_| LoadError {
        command: cmd.into(),
        io_error: std::io::Error::from_raw_os_error(libc::E2BIG),
        verifier_log: VerifierLog::default(),
    })?;
    let mut raw: bpf_attr = zeroed_attr();
    {
        // SAFETY: writing plain fields of the BTF-load member; `data` outlives the call.
        let b = unsafe { &mut raw.__bindgen_anon_7 };
        b.btf = slice_ptr(data);
        b.btf_size = size;
        if let Some(fd) = token_fd {
            b.btf_token_fd = opt_fd_u32(Some(fd)) as i32;
            b.btf_flags = BPF_F_TOKEN_FD;
        }
    }
    load_with_log(cmd, log_level, &mut |log_level, log_buf| {
        {
            // SAFETY: writing plain fields of the BTF-load member; `log_buf` outlives the call.
            let b = unsafe { &mut raw.__bindgen_anon_7 };
            b.btf_log_level = log_level;
            b.btf_log_buf = if log_level == 0 {
                0
            } else {
                log_buf.as_mut_ptr() as u64
            };
            b.btf_log_size = if log_level == 0 {
                0
            } else {
                log_buf.len() as u32
            };
            b.btf_log_true_size = 0;
        }
        let result = sys_bpf_fd(cmd, &mut raw);
        // SAFETY: reading a plain integer the kernel may have written back.
        (result, unsafe { raw.__bindgen_anon_7.btf_log_true_size })
    })
}
