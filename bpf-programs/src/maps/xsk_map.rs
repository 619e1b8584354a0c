//! AF_XDP socket maps: `BPF_MAP_TYPE_XSKMAP`.

use bpf_sys::generated::bpf_map_type;

use super::fd_array::FdArray;
use super::kind::sealed::Sealed;
use super::kind::{FdArrayKind, MapKind};

/// AF_XDP sockets by queue index, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_XSKMAP`).
///
/// Every method is [`FdArray`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::XskMap;
/// # let xsk = std::fs::File::open("/dev/null")?; // an AF_XDP socket, set up elsewhere
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut sockets = XskMap::try_from(bpf.map_mut("xsks").unwrap())?;
/// sockets.set(0, xsk.as_fd(), 0)?; // frames of queue 0 go to this AF_XDP socket
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type XskMap<T> = FdArray<T, XskMapKind>;

/// The kind of [`XskMap`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum XskMapKind {}

impl Sealed for XskMapKind {}
impl FdArrayKind for XskMapKind {}
impl MapKind for XskMapKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_XSKMAP;
    const NAME: &'static str = "XskMap";
}
