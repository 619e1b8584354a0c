//! AF_XDP socket maps: `BPF_MAP_TYPE_XSKMAP`.

use super::fd_array::FdArray;
use super::kind;

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
pub type XskMap<T> = FdArray<T, kind::XskMap>;
