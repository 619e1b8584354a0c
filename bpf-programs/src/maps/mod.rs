//! Typed access to eBPF maps: one module per map type.
//!
//! A loader creates every map of an object as a [`MapData`] and hands it out as a [`Map`],
//! whose variant follows the kernel map type. Typed wrappers ([`HashMap`], [`Array`], …) are
//! obtained from a `Map` by `TryFrom` (borrowed or owned), created from user space, or opened
//! from a pin. Keys and values are [`Pod`] types whose sizes are checked against the map.

pub mod batch;
mod checks;
mod error;
pub mod flags;
mod info;
mod iter;
mod kv;
pub(crate) mod map_data;
mod map_enum;
pub(crate) mod per_cpu;
mod wrapper;

pub mod hash_map;
pub mod lru_hash_map;
pub mod lru_per_cpu_hash_map;
pub mod per_cpu_hash_map;

pub use bpf_sys::pod::Pod;
pub use error::{MapError, map_type_name};
pub use hash_map::HashMap;
pub use info::{MapInfo, loaded_maps};
pub use iter::{IterableMap, MapIter, MapKeys};
pub use lru_hash_map::LruHashMap;
pub use lru_per_cpu_hash_map::LruPerCpuHashMap;
pub use map_data::MapData;
pub use map_enum::Map;
pub use per_cpu::{PerCpuValues, nr_cpus};
pub use per_cpu_hash_map::PerCpuHashMap;
