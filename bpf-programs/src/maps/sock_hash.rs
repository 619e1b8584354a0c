//! Socket hashes: `BPF_MAP_TYPE_SOCKHASH`.

use std::borrow::{Borrow, BorrowMut};
use std::marker::PhantomData;
use std::os::fd::BorrowedFd;

use bpf_core::obj::MapDef;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::pod::Pod;

use super::element::{delete, update_fd};
use super::kind::{check_key_size, check_map_type};
use super::wrapper::map_wrapper;
use super::{MapData, MapError, MapKeys};

/// Sockets by key, for redirection by sk_skb/sk_msg programs (`BPF_MAP_TYPE_SOCKHASH`).
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::SockHash;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut sockets: SockHash<_, u32> = SockHash::try_from(bpf.map_mut("sockets").unwrap())?;
/// let stream = std::net::TcpStream::connect("127.0.0.1:8080")?;
/// sockets.insert(&8080, stream.as_fd(), 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SockHash<T, K> {
    inner: T,
    _k: PhantomData<K>,
}

impl<T: Borrow<MapData>, K: Pod> SockHash<T, K> {
    /// Wraps a map after checking its type and key size.
    pub fn new(inner: T) -> Result<Self, MapError> {
        let data = inner.borrow();
        check_map_type(data, bpf_map_type::BPF_MAP_TYPE_SOCKHASH)?;
        check_key_size::<K>(data)?;
        Ok(SockHash {
            inner,
            _k: PhantomData,
        })
    }

    /// The keys.
    pub fn keys(&self) -> MapKeys<'_, K> {
        MapKeys::new(self.inner.borrow())
    }
}

impl<T: BorrowMut<MapData>, K: Pod> SockHash<T, K> {
    /// Stores socket `fd` under `key`.
    pub fn insert(&mut self, key: &K, fd: BorrowedFd<'_>, flags: u64) -> Result<(), MapError> {
        update_fd(self.inner.borrow(), key, fd, flags)
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) -> Result<(), MapError> {
        delete(self.inner.borrow(), key)
    }
}

impl<K: Pod> SockHash<MapData, K> {
    /// Creates a socket hash from user space.
    pub fn create(max_entries: u32, flags: u32) -> Result<Self, MapError> {
        let def = MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_SOCKHASH,
            key_size: size_of::<K>() as u32,
            value_size: 4,
            max_entries,
            map_flags: flags,
            ..MapDef::default()
        };
        Self::new(MapData::create_raw(&def, "SockHash")?)
    }
}

map_wrapper!(SockHash<K>);
