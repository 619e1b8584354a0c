//! Typed access to eBPF maps: one module per map type.
//!
//! A loader creates every map of an object as a [`MapData`] and hands it out as a [`Map`],
//! whose variant follows the kernel map type. Typed wrappers ([`HashMap`], [`Array`], …) are
//! obtained from a `Map` by `TryFrom` (`&Map` → read-only, `&mut Map` → read-write, `Map` →
//! owned), created from user space (`create`), or opened from a pin (`from_pin`). Keys and
//! values are [`Pod`] types whose sizes are checked against the map when wrapping.
//!
//! ```no_run
//! use bpf_programs::Bpf;
//! use bpf_programs::maps::{Arena, GlobalData, HashMap, PerCpuArray, RingBuf, flags::BPF_ANY};
//!
//! let mut bpf = Bpf::load_file("counter.bpf.o")?;
//! // Read-write view borrowed from the object.
//! let mut counts = HashMap::<_, u32, u64>::try_from(bpf.map_mut("COUNTS").unwrap())?;
//! counts.insert(7, 0, BPF_ANY)?;
//! for entry in counts.iter() {
//!     let (pid, n) = entry?;
//!     println!("{pid}: {n}");
//! }
//! let everything = counts.batch_lookup()?; // Vec<(u32, u64)>, fetched in batches
//! // Per-CPU values: one slot per possible CPU.
//! let hits = PerCpuArray::<_, u64>::try_from(bpf.map("HITS").unwrap())?;
//! let total: u64 = hits.get(0, 0)?.iter().sum();
//! // Global variables by name, through the data map's memory mapping.
//! let mut data = GlobalData::try_from(bpf.map_mut(".data").unwrap())?;
//! data.set("threshold", &10u32)?;
//! // Owned wrapper (taken out of the object), e.g. to move into a reader thread.
//! // An arena (BPF_MAP_TYPE_ARENA), mapped at creation: bytes, Pod values, `__arena` globals.
//! let arena = Arena::try_from(bpf.map("arena").unwrap())?;
//! let hits: u64 = arena.get("arena_hits")?;
//! let first_page: u64 = arena.read_at(0)?;
//! let mut events = RingBuf::try_from(bpf.take_map("EVENTS").unwrap())?;
//! while let Some(record) = events.next() {
//!     println!("{} bytes", record.len());
//! }
//! # let _ = (everything, total, hits, first_page);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! User-defined key and value types are [`Pod`]: `#[repr(C)]` types deriving zerocopy's
//! `FromBytes`, `IntoBytes` and `Immutable` (re-exported as [`crate::zerocopy`]), which check at
//! compile time that there is no padding and every bit pattern is valid. Types generated from
//! BTF by `bpf-build` derive them already.

mod arena_mapping;
pub mod batch;
mod element;
mod error;
mod fd_array;
pub mod flags;
mod info;
mod iter;
mod key_value;
pub mod kind;
mod local_storage;
mod map_create;
pub(crate) mod map_data;
mod map_enum;
mod map_open;
pub(crate) mod per_cpu;
mod per_cpu_key_value;
mod queue_stack;
mod record;
mod wrapper;
mod xdp_redirect;

pub mod arena;
pub mod array;
pub mod array_of_maps;
pub mod bloom_filter;
pub mod cgroup_array;
pub mod cgroup_storage;
pub mod cgrp_storage;
pub mod cpu_map;
pub mod dev_map;
pub mod dev_map_hash;
pub mod global_data;
pub mod hash_map;
pub mod hash_of_maps;
pub mod inode_storage;
pub mod lpm_trie;
pub mod lru_hash_map;
pub mod lru_per_cpu_hash_map;
pub mod per_cpu_array;
pub mod per_cpu_cgroup_storage;
pub mod per_cpu_hash_map;
pub mod perf_buffer;
#[cfg(feature = "tokio")]
pub mod perf_buffer_async;
pub mod perf_event_array;
pub mod program_array;
pub mod queue;
pub mod reuse_port_sock_array;
pub mod ring_buf;
#[cfg(feature = "tokio")]
pub mod ring_buf_async;
pub mod ring_buf_set;
pub mod sk_storage;
pub mod sock_hash;
pub mod sock_map;
pub mod stack;
pub mod stack_trace;
pub mod task_storage;
pub mod user_ring_buf;
pub mod xsk_map;

pub use arena::Arena;
pub use array::Array;
pub use array_of_maps::ArrayOfMaps;
pub use bloom_filter::BloomFilter;
pub use bpf_sys::pod::Pod;
pub use cgroup_array::CgroupArray;
pub use cgroup_storage::CgroupStorage;
pub use cgrp_storage::CgrpStorage;
pub use cpu_map::{CpuMap, CpuMapValue};
pub use dev_map::{DevMap, DevMapValue};
pub use dev_map_hash::{DevMapHash, DevMapHashValue};
pub use error::{MapError, map_type_name};
pub use fd_array::FdArray;
pub use global_data::{GlobalData, TypedGlobals};
pub use hash_map::HashMap;
pub use hash_of_maps::HashOfMaps;
pub use info::{MapInfo, loaded_maps};
pub use inode_storage::InodeStorage;
pub use iter::{IterableMap, MapIter, MapKeys};
pub use key_value::KeyValueMap;
pub use local_storage::FdKeyedStorage;
pub use lpm_trie::LpmTrie;
pub use lru_hash_map::LruHashMap;
pub use lru_per_cpu_hash_map::LruPerCpuHashMap;
pub use map_data::MapData;
pub use map_enum::Map;
pub use per_cpu::{PerCpuValues, nr_cpus};
pub use per_cpu_array::PerCpuArray;
pub use per_cpu_cgroup_storage::PerCpuCgroupStorage;
pub use per_cpu_hash_map::PerCpuHashMap;
pub use per_cpu_key_value::PerCpuKeyValueMap;
pub use perf_buffer::PerfBuffer;
#[cfg(feature = "tokio")]
pub use perf_buffer_async::AsyncPerfBuffer;
pub use perf_event_array::{Events, PerfEventArray, PerfEventArrayBuffer, PerfSample};
pub use program_array::ProgramArray;
pub use queue::Queue;
pub use queue_stack::QueueOrStack;
pub use record::RecordSizeError;
pub use reuse_port_sock_array::ReusePortSockArray;
pub use ring_buf::{Records, RecordsIter, RingBuf, RingBufItem};
#[cfg(feature = "tokio")]
pub use ring_buf_async::AsyncRingBuf;
pub use ring_buf_set::RingBufSet;
pub use sk_storage::SkStorage;
pub use sock_hash::SockHash;
pub use sock_map::SockMap;
pub use stack::Stack;
pub use stack_trace::{StackTrace, StackTraceMap};
pub use task_storage::TaskStorage;
pub use user_ring_buf::{UserRingBuf, UserRingBufEntry};
pub use xdp_redirect::XdpRedirectMap;
pub use xsk_map::XskMap;
