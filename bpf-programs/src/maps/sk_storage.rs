//! Socket local storage: `BPF_MAP_TYPE_SK_STORAGE`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{FdKeyedStorageKind, MapKind};
use super::local_storage::FdKeyedStorage;

/// A `V` per socket, keyed from user space by a socket fd (`BPF_MAP_TYPE_SK_STORAGE`).
///
/// Every method is [`FdKeyedStorage`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::SkStorage;
///
/// let bpf = Bpf::load_file("prog.bpf.o")?;
/// let storage: SkStorage<_, u64> = SkStorage::try_from(bpf.map("bytes_sent").unwrap())?;
/// let stream = std::net::TcpStream::connect("127.0.0.1:8080")?;
/// println!("{:?}", storage.get(stream.as_fd(), 0)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SkStorage<T, V> = FdKeyedStorage<T, V, SkStorageKind>;

/// The kind of [`SkStorage`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum SkStorageKind {}

impl Sealed for SkStorageKind {}
impl FdKeyedStorageKind for SkStorageKind {}
impl MapKind for SkStorageKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_SK_STORAGE;
    const NAME: &'static str = "SkStorage";
}
