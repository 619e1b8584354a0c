//! Map commands: create, element access, batches, freeze.
//!
//! Element access goes through [`MapFd`], which knows the kernel's key and value sizes and
//! refuses buffers the kernel would overrun.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::info::map_info;
use crate::util::possible_cpu_count;

use crate::error::{BpfCommand, SyscallError};
use crate::generated::{bpf_attr__bindgen_ty_2, bpf_map_type};
use crate::syscall::{
    BPF_F_TOKEN_FD, fd_u32, len_u32, object_name, opt_fd_u32, slice_mut_ptr, slice_ptr, sys_bpf,
    sys_bpf_fd, sys_bpf_member, zeroed_attr,
};

/// Everything `BPF_MAP_CREATE` accepts; zero/`None` fields are left out.
#[derive(Debug, Default, Clone)]
pub struct MapCreateAttr<'a> {
    /// `bpf_map_type::BPF_MAP_TYPE_*`.
    pub map_type: bpf_map_type::Type,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// Template inner map for map-in-map types.
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    /// NUMA node (used with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// Map name; cut to 15 bytes, characters the kernel refuses become `_`.
    pub name: &'a str,
    /// Device to offload to.
    pub ifindex: u32,
    /// BTF object describing key and value.
    pub btf_fd: Option<BorrowedFd<'a>>,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// Kernel BTF type id of the value (struct_ops maps).
    pub btf_vmlinux_value_type_id: u32,
    /// Type-specific extra (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// Module BTF fd for `btf_vmlinux_value_type_id` (with `BPF_F_VTYPE_BTF_OBJ_FD`).
    pub value_type_btf_obj_fd: Option<BorrowedFd<'a>>,
    /// BPF token granting the permission (`BPF_F_TOKEN_FD` is added to the flags).
    pub token_fd: Option<BorrowedFd<'a>>,
}

/// Creates a map and returns its bare fd.
pub fn map_create(attr: &MapCreateAttr<'_>) -> Result<OwnedFd, SyscallError> {
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the map-create member of a zeroed union.
    let a = unsafe { &mut raw.__bindgen_anon_1 };
    a.map_type = attr.map_type;
    a.key_size = attr.key_size;
    a.value_size = attr.value_size;
    a.max_entries = attr.max_entries;
    a.map_flags = attr.map_flags;
    a.inner_map_fd = opt_fd_u32(attr.inner_map_fd);
    a.numa_node = attr.numa_node;
    a.map_name = object_name(attr.name);
    a.map_ifindex = attr.ifindex;
    a.btf_fd = opt_fd_u32(attr.btf_fd);
    a.btf_key_type_id = attr.btf_key_type_id;
    a.btf_value_type_id = attr.btf_value_type_id;
    a.btf_vmlinux_value_type_id = attr.btf_vmlinux_value_type_id;
    a.map_extra = attr.map_extra;
    a.value_type_btf_obj_fd = opt_fd_u32(attr.value_type_btf_obj_fd) as i32;
    if let Some(token) = attr.token_fd {
        a.map_token_fd = fd_u32(token) as i32;
        a.map_flags |= BPF_F_TOKEN_FD;
    }
    sys_bpf_fd(BpfCommand::MapCreate, &mut raw)
}

/// True for map types whose user-space values hold one slot per possible CPU.
pub fn is_per_cpu(map_type: bpf_map_type::Type) -> bool {
    matches!(
        map_type,
        bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH
            | bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY
            | bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH
            | bpf_map_type::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
    )
}

/// A map fd together with the key/value sizes the kernel uses, so element calls can be checked.
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    map_type: bpf_map_type::Type,
    key_size: u32,
    value_size: u32,
    value_buf_size: usize,
    max_entries: u32,
}

impl MapFd {
    /// Creates a map (see [`map_create`]).
    pub fn create(attr: &MapCreateAttr<'_>) -> Result<Self, SyscallError> {
        let fd = map_create(attr)?;
        Self::with_layout(
            fd,
            attr.map_type,
            attr.key_size,
            attr.value_size,
            attr.max_entries,
        )
    }

    /// Wraps an existing map fd (pinned, by id, …), asking the kernel for its layout.
    pub fn from_fd(fd: OwnedFd) -> Result<Self, SyscallError> {
        let info = map_info(fd.as_fd())?;
        Self::with_layout(
            fd,
            info.info.type_,
            info.info.key_size,
            info.info.value_size,
            info.info.max_entries,
        )
    }

    fn with_layout(
        fd: OwnedFd,
        map_type: bpf_map_type::Type,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> Result<Self, SyscallError> {
        let value_buf_size = if is_per_cpu(map_type) {
            let cpus = possible_cpu_count().map_err(|io_error| SyscallError {
                command: BpfCommand::MapCreate.into(),
                io_error,
            })?;
            (value_size as usize).next_multiple_of(8) * cpus
        } else {
            value_size as usize
        };
        Ok(MapFd {
            fd,
            map_type,
            key_size,
            value_size,
            value_buf_size,
            max_entries,
        })
    }

    /// The map's fd.
    #[inline]
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Gives up the layout and returns the fd.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// `bpf_map_type::BPF_MAP_TYPE_*`.
    pub fn map_type(&self) -> bpf_map_type::Type {
        self.map_type
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> u32 {
        self.key_size
    }

    /// Value size in bytes as declared (one CPU's slot for per-CPU maps).
    pub fn value_size(&self) -> u32 {
        self.value_size
    }

    /// Bytes a value occupies in user space: per-CPU maps hold `round_up(value_size, 8) × CPUs`.
    pub fn value_buf_size(&self) -> usize {
        self.value_buf_size
    }

    /// Maximum number of entries.
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }

    #[inline]
    fn check(
        &self,
        cmd: BpfCommand,
        what: &'static str,
        len: usize,
        needed: usize,
    ) -> Result<(), SyscallError> {
        if len >= needed {
            return Ok(());
        }
        Err(buffer_too_small(cmd, what, len, needed))
    }

    #[inline]
    fn check_key(&self, cmd: BpfCommand, key: &[u8]) -> Result<(), SyscallError> {
        self.check(cmd, "key", key.len(), self.key_size as usize)
    }

    #[inline]
    fn check_value(&self, cmd: BpfCommand, value: &[u8]) -> Result<(), SyscallError> {
        self.check(cmd, "value", value.len(), self.value_buf_size)
    }

    /// Looks `key` up into `value`; `Ok(false)` if absent. `flags` may be `BPF_F_LOCK`.
    #[inline(always)]
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<bool, SyscallError> {
        let cmd = BpfCommand::MapLookupElem;
        self.check_key(cmd, key)?;
        self.check_value(cmd, value)?;
        absent_as_false(elem_call(
            cmd,
            self.fd(),
            slice_ptr(key),
            slice_mut_ptr(value),
            flags,
        ))
    }

    /// Inserts or updates `key` → `value`; `flags` is `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`/`BPF_F_LOCK`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), SyscallError> {
        let cmd = BpfCommand::MapUpdateElem;
        self.check_key(cmd, key)?;
        self.check_value(cmd, value)?;
        elem_call(cmd, self.fd(), slice_ptr(key), slice_ptr(value), flags).map(drop)
    }

    /// Deletes `key`; a missing key is an error with `ENOENT`.
    pub fn delete(&self, key: &[u8]) -> Result<(), SyscallError> {
        let cmd = BpfCommand::MapDeleteElem;
        self.check_key(cmd, key)?;
        elem_call(cmd, self.fd(), slice_ptr(key), 0, 0).map(drop)
    }

    /// Writes the key after `key` (the first key for `None`) into `next_key`; `Ok(false)` at the end.
    pub fn next_key(&self, key: Option<&[u8]>, next_key: &mut [u8]) -> Result<bool, SyscallError> {
        let cmd = BpfCommand::MapGetNextKey;
        if let Some(key) = key {
            self.check_key(cmd, key)?;
        }
        self.check(cmd, "key", next_key.len(), self.key_size as usize)?;
        absent_as_false(elem_call(
            cmd,
            self.fd(),
            key.map_or(0, slice_ptr),
            slice_mut_ptr(next_key),
            0,
        ))
    }

    /// Looks up and removes `key` (empty for queue/stack pop) into `value`; `Ok(false)` if absent.
    pub fn lookup_and_delete(
        &self,
        key: &[u8],
        value: &mut [u8],
        flags: u64,
    ) -> Result<bool, SyscallError> {
        let cmd = BpfCommand::MapLookupAndDeleteElem;
        self.check_key(cmd, key)?;
        self.check_value(cmd, value)?;
        absent_as_false(elem_call(
            cmd,
            self.fd(),
            slice_ptr(key),
            slice_mut_ptr(value),
            flags,
        ))
    }

    /// Freezes the map against further writes from user space.
    pub fn freeze(&self) -> Result<(), SyscallError> {
        let mut raw = zeroed_attr();
        raw.__bindgen_anon_2.map_fd = fd_u32(self.fd());
        sys_bpf(BpfCommand::MapFreeze, &mut raw).map(drop)
    }

    fn check_batch(
        &self,
        cmd: BpfCommand,
        bufs: &BatchBuffers<'_>,
        count: u32,
    ) -> Result<(), SyscallError> {
        let count = count as usize;
        let token = (self.key_size as usize).max(size_of::<u32>());
        if let Some(in_batch) = bufs.in_batch {
            self.check(cmd, "in_batch", in_batch.len(), token)?;
        }
        self.check(cmd, "out_batch", bufs.out_batch.len(), token)?;
        self.check(
            cmd,
            "keys",
            bufs.keys.len(),
            count.saturating_mul(self.key_size as usize),
        )?;
        self.check(
            cmd,
            "values",
            bufs.values.len(),
            count.saturating_mul(self.value_buf_size),
        )
    }

    /// Reads up to `count` elements after `bufs.in_batch`.
    pub fn lookup_batch(
        &self,
        bufs: BatchBuffers<'_>,
        count: u32,
        elem_flags: u64,
    ) -> Result<BatchOutcome, SyscallError> {
        let cmd = BpfCommand::MapLookupBatch;
        self.check_batch(cmd, &bufs, count)?;
        batch_lookup(cmd, self.fd(), bufs, count, elem_flags)
    }

    /// Reads and deletes up to `count` elements after `bufs.in_batch`.
    pub fn lookup_and_delete_batch(
        &self,
        bufs: BatchBuffers<'_>,
        count: u32,
        elem_flags: u64,
    ) -> Result<BatchOutcome, SyscallError> {
        let cmd = BpfCommand::MapLookupAndDeleteBatch;
        self.check_batch(cmd, &bufs, count)?;
        batch_lookup(cmd, self.fd(), bufs, count, elem_flags)
    }

    /// Writes every element of packed `keys`/`values`; returns how many the kernel wrote.
    pub fn update_batch(
        &self,
        keys: &[u8],
        values: &[u8],
        elem_flags: u64,
    ) -> Result<u32, SyscallError> {
        let cmd = BpfCommand::MapUpdateBatch;
        let count = self.batch_count(cmd, keys)?;
        self.check(
            cmd,
            "values",
            values.len(),
            (count as usize).saturating_mul(self.value_buf_size),
        )?;
        write_batch(cmd, self.fd(), keys, slice_ptr(values), count, elem_flags)
    }

    /// Deletes every key of packed `keys`; returns how many the kernel deleted.
    pub fn delete_batch(&self, keys: &[u8], elem_flags: u64) -> Result<u32, SyscallError> {
        let cmd = BpfCommand::MapDeleteBatch;
        let count = self.batch_count(cmd, keys)?;
        write_batch(cmd, self.fd(), keys, 0, count, elem_flags)
    }

    fn batch_count(&self, cmd: BpfCommand, keys: &[u8]) -> Result<u32, SyscallError> {
        let key_size = self.key_size as usize;
        if key_size == 0 || !keys.len().is_multiple_of(key_size) {
            return Err(SyscallError {
                command: cmd.into(),
                io_error: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "keys buffer of {} bytes is not a multiple of {key_size}",
                        keys.len()
                    ),
                ),
            });
        }
        len_u32(cmd, keys.len() / key_size)
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The error of a key or value buffer shorter than the map's; out of line, so that the checks
/// cost a lookup two comparisons.
#[cold]
#[inline(never)]
fn buffer_too_small(cmd: BpfCommand, what: &str, len: usize, needed: usize) -> SyscallError {
    SyscallError {
        command: cmd.into(),
        io_error: io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} buffer is {len} bytes, the map needs {needed}"),
        ),
    }
}

/// A per-element command with its 32-byte attribute member alone, as libbpf passes it.
// Fields set one by one on the zeroed `Default`: a struct literal leaves the padding after
// `map_fd` undefined.
#[allow(clippy::field_reassign_with_default)]
#[inline]
fn elem_call(
    cmd: BpfCommand,
    fd: BorrowedFd<'_>,
    key: u64,
    value: u64,
    flags: u64,
) -> Result<i64, SyscallError> {
    // Zeroed, padding included (the `Default` of a bindgen struct with a union inside).
    let mut a = bpf_attr__bindgen_ty_2::default();
    a.map_fd = fd_u32(fd);
    a.key = key;
    a.__bindgen_anon_1.value = value;
    a.flags = flags;
    sys_bpf_member(cmd, &mut a)
}

#[inline]
fn absent_as_false(result: Result<i64, SyscallError>) -> Result<bool, SyscallError> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.errno() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Result of one batch call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Number of elements processed.
    pub count: u32,
    /// True once the whole map has been walked (the kernel said `ENOENT`).
    pub done: bool,
}

/// Buffers for a batch lookup of `count` elements.
#[derive(Debug)]
pub struct BatchBuffers<'a> {
    /// Position from the previous call's `out_batch`; `None` starts at the beginning.
    pub in_batch: Option<&'a [u8]>,
    /// Receives the position for the next call (at least `max(key_size, 4)` bytes).
    pub out_batch: &'a mut [u8],
    /// Receives keys, `key_size` bytes each.
    pub keys: &'a mut [u8],
    /// Receives values, [`MapFd::value_buf_size`] bytes each.
    pub values: &'a mut [u8],
}

fn batch_lookup(
    cmd: BpfCommand,
    fd: BorrowedFd<'_>,
    bufs: BatchBuffers<'_>,
    count: u32,
    elem_flags: u64,
) -> Result<BatchOutcome, SyscallError> {
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the batch member of a zeroed union.
    let b = unsafe { &mut raw.batch };
    b.in_batch = bufs.in_batch.map_or(0, slice_ptr);
    b.out_batch = slice_mut_ptr(bufs.out_batch);
    b.keys = slice_mut_ptr(bufs.keys);
    b.values = slice_mut_ptr(bufs.values);
    b.count = count;
    b.map_fd = fd_u32(fd);
    b.elem_flags = elem_flags;
    let result = sys_bpf(cmd, &mut raw);
    // SAFETY: reading a plain integer the kernel wrote back into the batch member.
    let count = unsafe { raw.batch.count };
    match result {
        Ok(_) => Ok(BatchOutcome { count, done: false }),
        Err(e) if e.errno() == Some(libc::ENOENT) => Ok(BatchOutcome { count, done: true }),
        Err(e) => Err(e),
    }
}

fn write_batch(
    cmd: BpfCommand,
    fd: BorrowedFd<'_>,
    keys: &[u8],
    values: u64,
    count: u32,
    elem_flags: u64,
) -> Result<u32, SyscallError> {
    let mut raw = zeroed_attr();
    // SAFETY: writing plain integer fields of the batch member of a zeroed union.
    let b = unsafe { &mut raw.batch };
    b.keys = slice_ptr(keys);
    b.values = values;
    b.count = count;
    b.map_fd = fd_u32(fd);
    b.elem_flags = elem_flags;
    let result = sys_bpf(cmd, &mut raw);
    // SAFETY: reading a plain integer the kernel wrote back into the batch member.
    let done = unsafe { raw.batch.count };
    result.map(|_| done)
}
