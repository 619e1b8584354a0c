//! The raw bpf(2) entry point and small conversions shared by the wrappers.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{BpfCommand, SyscallError};
use crate::generated::{
    bpf_attr, bpf_attr__bindgen_ty_1, bpf_attr__bindgen_ty_2, bpf_attr__bindgen_ty_3,
    bpf_attr__bindgen_ty_4, bpf_attr__bindgen_ty_5, bpf_attr__bindgen_ty_6, bpf_attr__bindgen_ty_7,
    bpf_attr__bindgen_ty_8, bpf_attr__bindgen_ty_9, bpf_attr__bindgen_ty_10,
    bpf_attr__bindgen_ty_11, bpf_attr__bindgen_ty_12, bpf_attr__bindgen_ty_13,
    bpf_attr__bindgen_ty_14, bpf_attr__bindgen_ty_15, bpf_attr__bindgen_ty_16,
    bpf_attr__bindgen_ty_17, bpf_attr__bindgen_ty_18, bpf_attr__bindgen_ty_19,
    bpf_attr__bindgen_ty_20,
};

/// Flag telling map create / prog load / BTF load that a token fd is set (anonymous UAPI enum).
pub(crate) const BPF_F_TOKEN_FD: u32 = 1 << 16;

/// The bytes of `bpf_attr` that `cmd` reads: its member of the union, as libbpf passes
/// (`offsetofend` of the command's last field). The kernel copies only these, and a kernel
/// older than the member still accepts it as long as the fields it lacks are zero.
pub(crate) const fn attr_size(cmd: BpfCommand) -> usize {
    match cmd {
        BpfCommand::MapCreate => size_of::<bpf_attr__bindgen_ty_1>(),
        BpfCommand::MapLookupElem
        | BpfCommand::MapUpdateElem
        | BpfCommand::MapDeleteElem
        | BpfCommand::MapGetNextKey
        | BpfCommand::MapLookupAndDeleteElem
        | BpfCommand::MapFreeze => size_of::<bpf_attr__bindgen_ty_2>(),
        BpfCommand::MapLookupBatch
        | BpfCommand::MapLookupAndDeleteBatch
        | BpfCommand::MapUpdateBatch
        | BpfCommand::MapDeleteBatch => size_of::<bpf_attr__bindgen_ty_3>(),
        BpfCommand::ProgLoad => size_of::<bpf_attr__bindgen_ty_4>(),
        BpfCommand::ObjPin | BpfCommand::ObjGet => size_of::<bpf_attr__bindgen_ty_5>(),
        BpfCommand::ProgAttach | BpfCommand::ProgDetach => size_of::<bpf_attr__bindgen_ty_6>(),
        BpfCommand::ProgTestRun => size_of::<bpf_attr__bindgen_ty_7>(),
        BpfCommand::ProgGetNextId
        | BpfCommand::MapGetNextId
        | BpfCommand::BtfGetNextId
        | BpfCommand::LinkGetNextId
        | BpfCommand::ProgGetFdById
        | BpfCommand::MapGetFdById
        | BpfCommand::BtfGetFdById
        | BpfCommand::LinkGetFdById => size_of::<bpf_attr__bindgen_ty_8>(),
        BpfCommand::ObjGetInfoByFd => size_of::<bpf_attr__bindgen_ty_9>(),
        BpfCommand::ProgQuery => size_of::<bpf_attr__bindgen_ty_10>(),
        BpfCommand::RawTracepointOpen => size_of::<bpf_attr__bindgen_ty_11>(),
        BpfCommand::BtfLoad => size_of::<bpf_attr__bindgen_ty_12>(),
        BpfCommand::TaskFdQuery => size_of::<bpf_attr__bindgen_ty_13>(),
        BpfCommand::LinkCreate => size_of::<bpf_attr__bindgen_ty_14>(),
        BpfCommand::LinkUpdate => size_of::<bpf_attr__bindgen_ty_15>(),
        BpfCommand::LinkDetach => size_of::<bpf_attr__bindgen_ty_16>(),
        BpfCommand::EnableStats => size_of::<bpf_attr__bindgen_ty_17>(),
        BpfCommand::IterCreate => size_of::<bpf_attr__bindgen_ty_18>(),
        BpfCommand::ProgBindMap => size_of::<bpf_attr__bindgen_ty_19>(),
        BpfCommand::TokenCreate => size_of::<bpf_attr__bindgen_ty_20>(),
    }
}

/// Calls bpf(2) with `attr`, returning the non-negative result.
#[inline]
pub(crate) fn sys_bpf(cmd: BpfCommand, attr: &mut bpf_attr) -> Result<i64, SyscallError> {
    // SAFETY: `attr` is a valid, fully initialised bpf_attr, at least `attr_size(cmd)` bytes.
    unsafe { bpf_call(cmd, (attr as *mut bpf_attr).cast(), attr_size(cmd)) }
}

/// Calls bpf(2) with the attribute member `A` of `cmd` alone (the union's
/// `bpf_attr__bindgen_ty_N` that `attr_size` names for it): for the per-element commands,
/// whose callers build and zero 32 bytes instead of the whole union.
#[inline]
pub(crate) fn sys_bpf_member<A: Copy>(cmd: BpfCommand, attr: &mut A) -> Result<i64, SyscallError> {
    debug_assert_eq!(
        size_of::<A>(),
        attr_size(cmd),
        "{cmd:?} takes another member"
    );
    // SAFETY: `A` is the member of bpf_attr that `cmd` reads, fully initialised (padding
    // included, zeroed by the caller), and exactly the size passed.
    unsafe { bpf_call(cmd, (attr as *mut A).cast(), size_of::<A>()) }
}

/// bpf(2), restarted on EINTR. The first attempt is inline; a failure goes out of line, so that
/// a successful call costs its caller no more than the syscall instruction's setup.
///
/// # Safety
///
/// `attr` points to `size` initialised bytes laid out as the member of `bpf_attr` that `cmd`
/// reads; any pointers inside it point to live buffers that outlive the call.
#[inline(always)]
unsafe fn bpf_call(
    cmd: BpfCommand,
    attr: *mut libc::c_void,
    size: usize,
) -> Result<i64, SyscallError> {
    // SAFETY: as the caller promised.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd.raw() as libc::c_long, attr, size) };
    if ret >= 0 {
        return Ok(ret);
    }
    // SAFETY: as the caller promised.
    unsafe { bpf_call_failed(cmd, attr, size) }
}

/// The rest of `bpf_call` after a failed attempt: the error, or the call restarted on EINTR.
///
/// # Safety
///
/// As for `bpf_call`.
#[cold]
#[inline(never)]
unsafe fn bpf_call_failed(
    cmd: BpfCommand,
    attr: *mut libc::c_void,
    size: usize,
) -> Result<i64, SyscallError> {
    loop {
        let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if errno != libc::EINTR {
            return Err(SyscallError::from_errno(cmd, errno));
        }
        // SAFETY: as the caller promised.
        let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd.raw() as libc::c_long, attr, size) };
        if ret >= 0 {
            return Ok(ret);
        }
    }
}

/// Calls bpf(2) for a command that returns a new file descriptor.
pub(crate) fn sys_bpf_fd(cmd: BpfCommand, attr: &mut bpf_attr) -> Result<OwnedFd, SyscallError> {
    let ret = sys_bpf(cmd, attr)?;
    let fd = RawFd::try_from(ret).map_err(|_| SyscallError {
        command: cmd.into(),
        io_error: io::Error::new(io::ErrorKind::InvalidData, "fd out of range"),
    })?;
    // SAFETY: the kernel just returned this fd to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A fresh, all-zero `bpf_attr` (unused fields must be zero for the kernel).
pub(crate) fn zeroed_attr() -> bpf_attr {
    bpf_attr::default()
}

/// The fd as the `u32` the kernel's attr fields expect.
#[inline]
pub(crate) fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

/// The optional fd as `u32`, 0 when absent.
pub(crate) fn opt_fd_u32(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map_or(0, fd_u32)
}

/// A pointer to the slice's start as the kernel's `__aligned_u64`, or 0 when empty.
#[inline]
pub(crate) fn slice_ptr<T>(s: &[T]) -> u64 {
    if s.is_empty() { 0 } else { s.as_ptr() as u64 }
}

/// A mutable pointer to the slice's start as `u64`, or 0 when empty.
#[inline]
pub(crate) fn slice_mut_ptr<T>(s: &mut [T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_mut_ptr() as u64
    }
}

/// Length as `u32`, or EINVAL naming `cmd` if it does not fit.
pub(crate) fn len_u32(cmd: BpfCommand, len: usize) -> Result<u32, SyscallError> {
    u32::try_from(len).map_err(|_| SyscallError::from_errno(cmd, libc::EINVAL))
}

/// A C string from `s`, or EINVAL naming `cmd` if it contains a NUL.
pub(crate) fn cstring(cmd: BpfCommand, s: &[u8]) -> Result<CString, SyscallError> {
    CString::new(s).map_err(|_| SyscallError::from_errno(cmd, libc::EINVAL))
}

/// Copies `name` into a kernel object name: at most 15 bytes, cut at a char boundary, and
/// characters the kernel refuses (anything but ASCII alphanumerics, `_` and `.`) become `_`.
pub(crate) fn object_name(name: &str) -> [libc::c_char; 16] {
    let mut out = [0 as libc::c_char; 16];
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let kept = name.get(..end).unwrap_or_default();
    for (dst, src) in out.iter_mut().zip(kept.bytes()) {
        if src == 0 {
            break;
        }
        let ok = src.is_ascii_alphanumeric() || src == b'_' || src == b'.';
        *dst = if ok { src } else { b'_' } as libc::c_char;
    }
    out
}

/// Decodes a NUL-padded kernel object name.
pub(crate) fn name_from_c(name: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_sizes_end_at_each_commands_last_field() {
        // map_fd, key, value, flags: what libbpf passes for element commands.
        assert_eq!(attr_size(BpfCommand::MapLookupElem), 32);
        assert_eq!(attr_size(BpfCommand::MapLookupBatch), 56);
        assert!(attr_size(BpfCommand::ProgLoad) <= size_of::<bpf_attr>());
        assert!(attr_size(BpfCommand::LinkCreate) <= size_of::<bpf_attr>());
    }

    #[test]
    fn object_name_truncates_at_char_boundary() {
        let name = object_name("abcdefghijklmnopqrstuvwxyz");
        assert_eq!(name_from_c(&name), "abcdefghijklmno");
        let name = object_name("ééééééééé");
        assert_eq!(name_from_c(&name), "______________");
        assert_eq!(name[15], 0);
        assert_eq!(name_from_c(&object_name("my-map.bss")), "my_map.bss");
    }
}
