//! Typed access to eBPF maps: one module per map type.
//!
//! A loader creates every map of an object as a [`MapData`] and hands it out as a [`Map`],
//! whose variant follows the kernel map type. Typed wrappers ([`HashMap`], [`Array`], …) are
//! obtained from a `Map` by `TryFrom` (`&Map` → read-only, `&mut Map` → read-write, `Map` →
//! owned), created from user space (`create`), or opened from a pin (`from_pin`). Keys and
//! values are [`Pod`] types whose sizes are checked against the map when wrapping.

pub mod batch;
mod checks;
mod error;
mod fd_array;
pub mod flags;
mod info;
mod iter;
mod kv;
mod local_storage;
pub(crate) mod map_data;
mod map_enum;
pub(crate) mod per_cpu;
mod queue_stack;
mod wrapper;
mod xdp_redirect;

pub mod array;
pub mod bloom_filter;
pub mod cgroup_array;
pub mod cgroup_storage;
pub mod cgrp_storage;
pub mod cpu_map;
pub mod dev_map;
pub mod dev_map_hash;
pub mod global_data;
pub mod hash_map;
pub mod inode_storage;
pub mod lpm_trie;
pub mod lru_hash_map;
pub mod lru_per_cpu_hash_map;
pub mod map_of_maps;
pub mod per_cpu_array;
pub mod per_cpu_hash_map;
pub mod perf_event_array;
pub mod program_array;
pub mod queue;
pub mod reuse_port_sock_array;
pub mod ring_buf;
pub mod sk_storage;
pub mod sock_hash;
pub mod sock_map;
pub mod stack;
pub mod stack_trace;
pub mod task_storage;
pub mod xsk_map;

pub use array::Array;
pub use bloom_filter::BloomFilter;
pub use bpf_sys::pod::Pod;
pub use cgroup_array::CgroupArray;
pub use cgroup_storage::{CgroupStorage, PerCpuCgroupStorage};
pub use cgrp_storage::CgrpStorage;
pub use cpu_map::{CpuMap, CpuMapValue};
pub use dev_map::{DevMap, DevMapValue};
pub use dev_map_hash::{DevMapHash, DevMapHashValue};
pub use error::{MapError, map_type_name};
pub use global_data::GlobalData;
pub use hash_map::HashMap;
pub use info::{MapInfo, loaded_maps};
pub use inode_storage::InodeStorage;
pub use iter::{IterableMap, MapIter, MapKeys};
pub use lpm_trie::LpmTrie;
pub use lru_hash_map::LruHashMap;
pub use lru_per_cpu_hash_map::LruPerCpuHashMap;
pub use map_data::MapData;
pub use map_enum::Map;
pub use map_of_maps::{ArrayOfMaps, HashOfMaps};
pub use per_cpu::{PerCpuValues, nr_cpus};
pub use per_cpu_array::PerCpuArray;
pub use per_cpu_hash_map::PerCpuHashMap;
pub use perf_event_array::{Events, PerfEventArray, PerfEventArrayBuffer};
pub use program_array::ProgramArray;
pub use queue::Queue;
pub use reuse_port_sock_array::ReusePortSockArray;
pub use ring_buf::{RingBuf, RingBufItem};
pub use sk_storage::SkStorage;
pub use sock_hash::SockHash;
pub use sock_map::SockMap;
pub use stack::Stack;
pub use stack_trace::{StackTrace, StackTraceMap};
pub use task_storage::TaskStorage;
pub use xsk_map::XskMap;
