//! [`Map`]: a created map tagged with its kernel map type.

use bpf_sys::generated::bpf_map_type;

use super::MapData;

macro_rules! map_variants {
    ($($variant:ident => $($ty:ident)|+;)*) => {
        /// A map of a loaded object; the variant is the kernel map type.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum Map {
            $(
                #[doc = concat!($("`", stringify!($ty), "` "),+)]
                $variant(MapData),
            )*
            /// A map type this library has no wrapper for; the map exists all the same.
            Unsupported(MapData),
        }

        impl From<MapData> for Map {
            fn from(data: MapData) -> Map {
                match data.map_type() {
                    $($(bpf_map_type::$ty)|+ => Map::$variant(data),)*
                    _ => Map::Unsupported(data),
                }
            }
        }

        impl Map {
            /// The map's data, whatever its type.
            pub fn data(&self) -> &MapData {
                match self {
                    $(Map::$variant(d) => d,)*
                    Map::Unsupported(d) => d,
                }
            }

            /// The map's data, mutably.
            pub fn data_mut(&mut self) -> &mut MapData {
                match self {
                    $(Map::$variant(d) => d,)*
                    Map::Unsupported(d) => d,
                }
            }

            /// Gives up the tag and returns the data.
            pub fn into_data(self) -> MapData {
                match self {
                    $(Map::$variant(d) => d,)*
                    Map::Unsupported(d) => d,
                }
            }
        }
    };
}

map_variants! {
    HashMap => BPF_MAP_TYPE_HASH;
    PerCpuHashMap => BPF_MAP_TYPE_PERCPU_HASH;
    LruHashMap => BPF_MAP_TYPE_LRU_HASH;
    LruPerCpuHashMap => BPF_MAP_TYPE_LRU_PERCPU_HASH;
    Array => BPF_MAP_TYPE_ARRAY;
    PerCpuArray => BPF_MAP_TYPE_PERCPU_ARRAY;
    ProgramArray => BPF_MAP_TYPE_PROG_ARRAY;
    PerfEventArray => BPF_MAP_TYPE_PERF_EVENT_ARRAY;
    StackTraceMap => BPF_MAP_TYPE_STACK_TRACE;
    CgroupArray => BPF_MAP_TYPE_CGROUP_ARRAY;
    LpmTrie => BPF_MAP_TYPE_LPM_TRIE;
    ArrayOfMaps => BPF_MAP_TYPE_ARRAY_OF_MAPS;
    HashOfMaps => BPF_MAP_TYPE_HASH_OF_MAPS;
    DevMap => BPF_MAP_TYPE_DEVMAP;
    DevMapHash => BPF_MAP_TYPE_DEVMAP_HASH;
    SockMap => BPF_MAP_TYPE_SOCKMAP;
    SockHash => BPF_MAP_TYPE_SOCKHASH;
    CpuMap => BPF_MAP_TYPE_CPUMAP;
    XskMap => BPF_MAP_TYPE_XSKMAP;
    CgroupStorage => BPF_MAP_TYPE_CGROUP_STORAGE;
    PerCpuCgroupStorage => BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
    ReusePortSockArray => BPF_MAP_TYPE_REUSEPORT_SOCKARRAY;
    Queue => BPF_MAP_TYPE_QUEUE;
    Stack => BPF_MAP_TYPE_STACK;
    SkStorage => BPF_MAP_TYPE_SK_STORAGE;
    InodeStorage => BPF_MAP_TYPE_INODE_STORAGE;
    TaskStorage => BPF_MAP_TYPE_TASK_STORAGE;
    CgrpStorage => BPF_MAP_TYPE_CGRP_STORAGE;
    BloomFilter => BPF_MAP_TYPE_BLOOM_FILTER;
    RingBuf => BPF_MAP_TYPE_RINGBUF;
    UserRingBuf => BPF_MAP_TYPE_USER_RINGBUF;
    StructOps => BPF_MAP_TYPE_STRUCT_OPS;
    Arena => BPF_MAP_TYPE_ARENA;
}

impl Map {
    /// The map's name.
    pub fn name(&self) -> &str {
        self.data().name()
    }

    /// `bpf_map_type::BPF_MAP_TYPE_*`.
    pub fn map_type(&self) -> bpf_map_type::Type {
        self.data().map_type()
    }

    /// Pins the map at `path` (inside a bpffs mount).
    pub fn pin(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), super::MapError> {
        self.data_mut().pin(path)
    }
}
