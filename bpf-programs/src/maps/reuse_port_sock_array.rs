//! `SO_REUSEPORT` socket arrays: `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`.

use bpf_sys::generated::bpf_map_type;

use super::fd_array::FdArray;
use super::kind::sealed::Sealed;
use super::kind::{FdArrayKind, MapKind};

/// Sockets of a reuseport group by index, for `bpf_sk_select_reuseport`.
///
/// Every method is [`FdArray`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::ReusePortSockArray;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut group = ReusePortSockArray::try_from(bpf.map_mut("group").unwrap())?;
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?; // with SO_REUSEPORT set
/// group.set(0, socket.as_fd(), 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ReusePortSockArray<T> = FdArray<T, ReusePortSockArrayKind>;

/// The kind of [`ReusePortSockArray`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum ReusePortSockArrayKind {}

impl Sealed for ReusePortSockArrayKind {}
impl FdArrayKind for ReusePortSockArrayKind {}
impl MapKind for ReusePortSockArrayKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_REUSEPORT_SOCKARRAY;
    const NAME: &'static str = "ReusePortSockArray";
}
