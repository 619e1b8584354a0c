//! `BPF_*` flag values from anonymous UAPI enums (bindgen gives them no stable module name).

/// Update: create or replace.
pub const BPF_ANY: u64 = 0;
/// Update: only create.
pub const BPF_NOEXIST: u64 = 1;
/// Update: only replace.
pub const BPF_EXIST: u64 = 2;
/// Element access under the value's `bpf_spin_lock`.
pub const BPF_F_LOCK: u64 = 4;

/// Hash maps: allocate elements on demand.
pub const BPF_F_NO_PREALLOC: u32 = 1;
/// LRU maps: one LRU list per CPU.
pub const BPF_F_NO_COMMON_LRU: u32 = 2;
/// Create on the NUMA node given in the definition.
pub const BPF_F_NUMA_NODE: u32 = 4;
/// Read-only for user space.
pub const BPF_F_RDONLY: u32 = 8;
/// Write-only for user space.
pub const BPF_F_WRONLY: u32 = 16;
/// Stack trace maps: store build ids instead of addresses.
pub const BPF_F_STACK_BUILD_ID: u32 = 32;
/// Hash maps: fixed hash seed.
pub const BPF_F_ZERO_SEED: u32 = 64;
/// Read-only for programs.
pub const BPF_F_RDONLY_PROG: u32 = 128;
/// Write-only for programs.
pub const BPF_F_WRONLY_PROG: u32 = 256;
/// Local storage: clone to child sockets.
pub const BPF_F_CLONE: u32 = 512;
/// Arrays: can be memory-mapped.
pub const BPF_F_MMAPABLE: u32 = 1024;
/// Perf event arrays: keep elements after the owning file is closed.
pub const BPF_F_PRESERVE_ELEMS: u32 = 2048;
/// Map-in-map inner template may vary in max_entries.
pub const BPF_F_INNER_MAP: u32 = 4096;
