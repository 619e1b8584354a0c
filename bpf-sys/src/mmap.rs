//! Memory-mapping map fds (`BPF_F_MMAPABLE` arrays, ring buffers, arenas).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::error::{Command, SyscallError};

/// A shared mapping of a map fd, unmapped on drop.
///
/// BPF programs may change the bytes at any time; the accessors copy, so no Rust reference
/// ever aliases memory the kernel writes.
#[derive(Debug)]
pub struct MmapRegion {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the region is plain shared memory owned by this value; access goes through copies.
unsafe impl Send for MmapRegion {}
// SAFETY: shared access only reads through copies; writes need `&mut self`.
unsafe impl Sync for MmapRegion {}

impl MmapRegion {
    /// Maps `len` bytes of `fd` from `offset` (a page multiple), read-only or read-write.
    pub fn new(
        fd: BorrowedFd<'_>,
        len: usize,
        offset: usize,
        writable: bool,
    ) -> Result<Self, SyscallError> {
        if len == 0 {
            return Err(SyscallError::from_errno(Command::Mmap, libc::EINVAL));
        }
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| SyscallError::from_errno(Command::Mmap, libc::EINVAL))?;
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh shared mapping chosen by the kernel; it aliases no Rust object.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(SyscallError::last_os_error(Command::Mmap));
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| SyscallError::from_errno(Command::Mmap, libc::EFAULT))?;
        Ok(MmapRegion { ptr, len, writable })
    }

    /// Maps `len` bytes of `fd` from offset 0 with `MAP_SHARED`, at `address` when given
    /// (`MAP_FIXED_NOREPLACE`: fails with `EEXIST` instead of replacing anything already mapped
    /// there), else where the kernel chooses. Arena maps are mapped this way: the mapping's
    /// address becomes the arena's user-space address.
    pub fn new_at(
        fd: BorrowedFd<'_>,
        len: usize,
        address: Option<u64>,
        writable: bool,
    ) -> Result<Self, SyscallError> {
        if len == 0 {
            return Err(SyscallError::from_errno(Command::Mmap, libc::EINVAL));
        }
        let wanted = match address {
            Some(address) => usize::try_from(address)
                .ok()
                .filter(|&a| a != 0 && a.is_multiple_of(crate::util::page_size()))
                .ok_or_else(|| SyscallError::from_errno(Command::Mmap, libc::EINVAL))?,
            None => 0,
        };
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let flags = if address.is_some() {
            libc::MAP_SHARED | libc::MAP_FIXED_NOREPLACE
        } else {
            libc::MAP_SHARED
        };
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping, so the new shared
        // mapping aliases no Rust object whether or not an address is asked for.
        let ptr = unsafe {
            libc::mmap(
                wanted as *mut libc::c_void,
                len,
                prot,
                flags,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(SyscallError::last_os_error(Command::Mmap));
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| SyscallError::from_errno(Command::Mmap, libc::EFAULT))?;
        let region = MmapRegion { ptr, len, writable };
        if address.is_some() && region.address() != wanted as u64 {
            // Kernels before 4.17 take MAP_FIXED_NOREPLACE as a mere hint: the range was taken.
            return Err(SyscallError::from_errno(Command::Mmap, libc::EEXIST));
        }
        Ok(region)
    }

    /// The user-space address the mapping starts at.
    pub fn address(&self) -> u64 {
        self.ptr.as_ptr() as usize as u64
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: empty mappings are refused at creation.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if mapped read-write.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The start of the mapping, for callers that need atomics on it.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Copies `out.len()` bytes from `offset`; `None` if out of range.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Option<()> {
        let end = offset.checked_add(out.len())?;
        if end > self.len {
            return None;
        }
        // SAFETY: offset..end lies inside the live mapping; `out` is a distinct Rust buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        Some(())
    }

    /// Copies `data` to `offset`; `None` if out of range or the mapping is read-only.
    pub fn write(&mut self, offset: usize, data: &[u8]) -> Option<()> {
        let end = offset.checked_add(data.len())?;
        if end > self.len || !self.writable {
            return None;
        }
        // SAFETY: offset..end lies inside the live, writable mapping; `data` is a distinct buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len())
        };
        Some(())
    }

    fn aligned(&self, offset: usize, size: usize) -> Option<*mut u8> {
        let end = offset.checked_add(size)?;
        if end > self.len || !offset.is_multiple_of(size) {
            return None;
        }
        // SAFETY: offset..end lies inside the mapping, which is page aligned.
        Some(unsafe { self.ptr.as_ptr().add(offset) })
    }

    /// Atomically loads the naturally aligned `u64` at `offset` with `order` (ring positions).
    pub fn load_u64(&self, offset: usize, order: Ordering) -> Option<u64> {
        let ptr = self.aligned(offset, 8)?;
        // SAFETY: the word is aligned, inside the live mapping, and only accessed atomically here.
        Some(unsafe { AtomicU64::from_ptr(ptr.cast()) }.load(order))
    }

    /// Atomically stores the naturally aligned `u64` at `offset`; `None` if out of range or read-only.
    pub fn store_u64(&self, offset: usize, value: u64, order: Ordering) -> Option<()> {
        if !self.writable {
            return None;
        }
        let ptr = self.aligned(offset, 8)?;
        // SAFETY: the word is aligned, inside the live writable mapping, and accessed atomically.
        unsafe { AtomicU64::from_ptr(ptr.cast()) }.store(value, order);
        Some(())
    }

    /// Atomically loads the naturally aligned `u32` at `offset` with `order` (record headers).
    pub fn load_u32(&self, offset: usize, order: Ordering) -> Option<u32> {
        let ptr = self.aligned(offset, 4)?;
        // SAFETY: the word is aligned, inside the live mapping, and only accessed atomically here.
        Some(unsafe { AtomicU32::from_ptr(ptr.cast()) }.load(order))
    }

    /// A copy of the whole region.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.len];
        let _ = self.read(0, &mut out);
        out
    }
}

impl Drop for MmapRegion {
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly what mmap returned and nothing borrows the mapping now.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
