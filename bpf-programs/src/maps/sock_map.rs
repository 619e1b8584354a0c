//! Socket maps: `BPF_MAP_TYPE_SOCKMAP`.

use bpf_sys::generated::bpf_map_type;

use super::fd_array::FdArray;
use super::kind::sealed::Sealed;
use super::kind::{FdArrayKind, MapKind};

/// Sockets by index, for redirection by sk_skb/sk_msg programs (`BPF_MAP_TYPE_SOCKMAP`).
///
/// Every method is [`FdArray`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::SockMap;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut sockets = SockMap::try_from(bpf.map_mut("sockets").unwrap())?;
/// let stream = std::net::TcpStream::connect("127.0.0.1:8080")?;
/// sockets.set(0, stream.as_fd(), 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SockMap<T> = FdArray<T, SockMapKind>;

/// The kind of [`SockMap`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum SockMapKind {}

impl Sealed for SockMapKind {}
impl FdArrayKind for SockMapKind {}
impl MapKind for SockMapKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_SOCKMAP;
    const NAME: &'static str = "SockMap";
}
