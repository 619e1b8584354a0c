//! Hashed device maps for XDP redirection: `BPF_MAP_TYPE_DEVMAP_HASH`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, XdpRedirectKind};
use super::xdp_redirect::XdpRedirectMap;

/// Network devices by key (usually the ifindex), for `bpf_redirect_map` from XDP.
///
/// Every method is [`XdpRedirectMap`]'s; [`get`](XdpRedirectMap::get) reads a
/// [`DevMapHashValue`].
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::DevMapHash;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut ports = DevMapHash::try_from(bpf.map_mut("ports").unwrap())?;
/// ports.set(2, 2, None, 0)?; // key 2 redirects to ifindex 2
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type DevMapHash<T> = XdpRedirectMap<T, DevMapHashKind>;

/// A slot of a [`DevMapHash`]: the target and the program run on redirected frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevMapHashValue {
    /// `ifindex` of the slot: the device redirected to.
    pub ifindex: u32,
    /// Id of the program attached to the slot, if any.
    pub prog_id: Option<u32>,
}

/// The kind of [`DevMapHash`]: which kernel map type it accepts and creates, its key and value.
#[derive(Debug)]
pub enum DevMapHashKind {}

impl Sealed for DevMapHashKind {}
impl MapKind for DevMapHashKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_DEVMAP_HASH;
    const NAME: &'static str = "DevMapHash";
}
impl XdpRedirectKind for DevMapHashKind {
    type Key = u32;
    type Value = DevMapHashValue;
    fn value(ifindex: u32, prog_id: Option<u32>) -> DevMapHashValue {
        DevMapHashValue { ifindex, prog_id }
    }
}
