//! The error every map operation returns: which map, and what went wrong with it.

use std::path::PathBuf;

use bpf_sys::{Command, SyscallError};

pub use crate::kernel::map_type::map_type_name;

/// A failed map operation. Every variant names the map; syscall failures name the command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// The kernel refused a command on the map.
    #[error("map `{name}`")]
    Syscall {
        name: String,
        #[source]
        source: SyscallError,
    },
    /// The kernel refused to create the map with EPERM or EACCES.
    #[error("map `{name}`: permission denied; {hint}")]
    PermissionDenied {
        name: String,
        /// The likely cause, decided from the process's capabilities and kernel settings.
        hint: Box<crate::kernel::permission::PermissionHint>,
        #[source]
        source: SyscallError,
    },
    /// The typed key does not have the map's key size.
    #[error("map `{name}`: key type is {actual} bytes, the map's key is {expected}")]
    KeySize {
        name: String,
        expected: u32,
        actual: usize,
    },
    /// The typed value does not have the map's value size.
    #[error("map `{name}`: value type is {actual} bytes, the map's value is {expected}")]
    ValueSize {
        name: String,
        expected: u32,
        actual: usize,
    },
    /// The map is not of the type the wrapper needs.
    #[error("map `{name}` is of type {actual} ({}), not {expected}", map_type_name(*actual))]
    WrongType {
        name: String,
        expected: &'static str,
        actual: u32,
    },
    /// An index beyond `max_entries` of an array-like map.
    #[error("map `{name}`: index {index} is out of bounds (max_entries {max_entries})")]
    OutOfBounds {
        name: String,
        index: u32,
        max_entries: u32,
    },
    /// The key is not in the map.
    #[error("map `{name}`: key not found")]
    KeyNotFound { name: String },
    /// An update with `BPF_EXIST` (replace only) of a key the map does not have.
    #[error("map `{name}`: no such key to update (BPF_EXIST only replaces an existing key)")]
    NoKeyToUpdate {
        name: String,
        #[source]
        source: SyscallError,
    },
    /// An update with `BPF_NOEXIST` (insert only) of a key the map has.
    #[error("map `{name}`: the key exists already (BPF_NOEXIST only inserts a new key)")]
    KeyExists {
        name: String,
        #[source]
        source: SyscallError,
    },
    /// The kernel refused the map's size: too many entries, or too large entries.
    #[error(
        "map `{name}`: the kernel refused {max_entries} entries of {key_size}-byte keys and \
         {value_size}-byte values as too big; lower max_entries (BpfLoader::set_max_entries) or \
         the value size"
    )]
    TooBig {
        name: String,
        max_entries: u32,
        key_size: u32,
        value_size: u32,
        #[source]
        source: SyscallError,
    },
    /// A write to a frozen (read-only) data section such as `.rodata`.
    #[error(
        "map `{name}` is read-only: the kernel froze it when the object was loaded; set \
         `const volatile` globals before the load, with BpfLoader::set_global"
    )]
    ReadOnly {
        name: String,
        /// Why the mapping is read-only (the kernel's refusal of a writable one).
        #[source]
        source: Option<SyscallError>,
    },
    /// A pin outside a BPF filesystem: pins can only live on one.
    #[error(
        "map `{name}`: cannot pin at {}: {} is not on a BPF filesystem (pin under a bpffs \
         mount, e.g. /sys/fs/bpf; mount one with `mount -t bpf bpf /sys/fs/bpf`)",
        path.display(),
        directory.display()
    )]
    PinOutsideBpffs {
        name: String,
        path: PathBuf,
        directory: PathBuf,
        #[source]
        source: SyscallError,
    },
    /// The object's definition of the map cannot be created as given.
    #[error("map `{name}`: invalid definition: {reason}")]
    InvalidDefinition { name: String, reason: String },
    /// The kernel refused the definition; `reason` says which setting to give.
    #[error("map `{name}`: invalid definition: {reason}")]
    DefinitionRefused {
        name: String,
        reason: &'static str,
        #[source]
        source: SyscallError,
    },
    /// A pinned map exists at the path but differs from the definition.
    #[error("map `{name}`: pinned map at {} does not match the definition: {reason}", path.display())]
    PinMismatch {
        name: String,
        path: PathBuf,
        reason: String,
    },
    /// A map given to reuse differs from the object's definition.
    #[error("map `{name}`: the map given to reuse does not match the definition: {reason}")]
    ReuseMismatch { name: String, reason: String },
    /// The global variable is not in this data map.
    #[error("map `{name}`: no global variable `{variable}`")]
    NoSuchVariable { name: String, variable: String },
    /// The global variable's size differs from the requested type's.
    #[error("map `{name}`: global variable `{variable}` is {expected} bytes, the type is {actual}")]
    VariableSize {
        name: String,
        variable: String,
        expected: u32,
        actual: usize,
    },
    /// The map has no memory mapping (it was not created with `BPF_F_MMAPABLE`).
    #[error("map `{name}` is not memory-mappable")]
    NotMmapable { name: String },
    /// A file operation around the map failed (unpinning, duplicating its fd, reading
    /// `/sys/devices/system/cpu/possible`).
    #[error("map `{name}`: {what}")]
    Io {
        name: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The map was to be pinned under `/sys/fs/bpf`, where no BPF filesystem is mounted nor
    /// could be.
    #[error("map `{name}`: pinning at {}", path.display())]
    PinFilesystem {
        name: String,
        path: PathBuf,
        #[source]
        source: Box<crate::kernel::fs::KernelFsError>,
    },
    /// Per-CPU values given for a different number of CPUs than the system's possible CPUs.
    #[error("per-CPU values for {actual} CPUs, the system has {expected} possible CPUs")]
    CpuCount { expected: usize, actual: usize },
    /// The running kernel has no such map type (its BTF does not list it).
    #[error("map `{name}`: not supported by this kernel: map type {}", map_type_name(*map_type))]
    MapTypeNotSupported { name: String, map_type: u32 },
    /// The arena's fixed user-space address (`map_extra`) is already mapped in this process;
    /// nothing was replaced.
    #[error(
        "map `{name}`: the arena's address {address:#x} ({len} bytes, from map_extra) is already \
         mapped in this process"
    )]
    ArenaAddressInUse {
        name: String,
        address: u64,
        len: usize,
    },
    /// This handle of an arena has no mapping of it (a `try_clone`, or an arena opened from a
    /// pin or fd that another process mapped at another address).
    #[error("map `{name}`: this handle has no mapping of the arena")]
    ArenaNotMapped { name: String },
    /// A read or write beyond the arena's mapping.
    #[error("map `{name}`: {len} bytes at offset {offset} are outside the arena ({size} bytes)")]
    ArenaOutOfBounds {
        name: String,
        offset: usize,
        len: usize,
        size: usize,
    },
    /// The ring buffer's memory holds a record that cannot be valid.
    #[error("map `{name}`: corrupt ring buffer record at position {position}")]
    CorruptRecord { name: String, position: u64 },
    /// A user ring buffer has no room for the record until the program drains more.
    #[error("map `{name}`: no room for a {len}-byte record until the program drains")]
    RingBufFull { name: String, len: usize },
    /// A record longer than a user ring buffer can ever hold.
    #[error("map `{name}`: a {len}-byte record does not fit in the {capacity}-byte ring buffer")]
    RecordTooLarge {
        name: String,
        len: usize,
        capacity: u64,
    },
}

impl MapError {
    /// The command that failed, for syscall failures.
    pub fn command(&self) -> Option<Command> {
        match self {
            MapError::Syscall { source, .. }
            | MapError::PermissionDenied { source, .. }
            | MapError::NoKeyToUpdate { source, .. }
            | MapError::KeyExists { source, .. }
            | MapError::TooBig { source, .. }
            | MapError::DefinitionRefused { source, .. }
            | MapError::PinOutsideBpffs { source, .. } => Some(source.command),
            MapError::ReadOnly { source, .. } => source.as_ref().map(|s| s.command),
            _ => None,
        }
    }

    /// The errno, for syscall failures.
    pub fn errno(&self) -> Option<i32> {
        match self {
            MapError::Syscall { source, .. }
            | MapError::PermissionDenied { source, .. }
            | MapError::NoKeyToUpdate { source, .. }
            | MapError::KeyExists { source, .. }
            | MapError::TooBig { source, .. }
            | MapError::DefinitionRefused { source, .. }
            | MapError::PinOutsideBpffs { source, .. } => source.errno(),
            MapError::ReadOnly { source, .. } => source.as_ref().and_then(SyscallError::errno),
            _ => None,
        }
    }

    /// The name of the map the error is about.
    pub fn map_name(&self) -> &str {
        match self {
            MapError::Syscall { name, .. }
            | MapError::NoKeyToUpdate { name, .. }
            | MapError::KeyExists { name, .. }
            | MapError::TooBig { name, .. }
            | MapError::ReadOnly { name, .. }
            | MapError::PinOutsideBpffs { name, .. }
            | MapError::PermissionDenied { name, .. }
            | MapError::KeySize { name, .. }
            | MapError::ValueSize { name, .. }
            | MapError::WrongType { name, .. }
            | MapError::OutOfBounds { name, .. }
            | MapError::KeyNotFound { name }
            | MapError::InvalidDefinition { name, .. }
            | MapError::DefinitionRefused { name, .. }
            | MapError::PinMismatch { name, .. }
            | MapError::ReuseMismatch { name, .. }
            | MapError::NoSuchVariable { name, .. }
            | MapError::VariableSize { name, .. }
            | MapError::NotMmapable { name }
            | MapError::Io { name, .. }
            | MapError::PinFilesystem { name, .. }
            | MapError::MapTypeNotSupported { name, .. }
            | MapError::CorruptRecord { name, .. }
            | MapError::RingBufFull { name, .. }
            | MapError::RecordTooLarge { name, .. }
            | MapError::ArenaAddressInUse { name, .. }
            | MapError::ArenaNotMapped { name }
            | MapError::ArenaOutOfBounds { name, .. } => name,
            MapError::CpuCount { .. } => "<per-cpu values>",
        }
    }
}
