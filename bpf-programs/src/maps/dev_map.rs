//! Device maps for XDP redirection: `BPF_MAP_TYPE_DEVMAP`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, XdpRedirectKind};
use super::xdp_redirect::XdpRedirectMap;

/// Network devices by index, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_DEVMAP`).
///
/// Every method is [`XdpRedirectMap`]'s; [`get`](XdpRedirectMap::get) reads a
/// [`DevMapValue`].
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::DevMap;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut ports = DevMap::try_from(bpf.map_mut("ports").unwrap())?;
/// ports.set(0, 2, None, 0)?; // slot 0 redirects to ifindex 2
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type DevMap<T> = XdpRedirectMap<T, DevMapKind>;

/// A slot of a [`DevMap`]: the target and the program run on redirected frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevMapValue {
    /// `ifindex` of the slot: the device redirected to.
    pub ifindex: u32,
    /// Id of the program attached to the slot, if any.
    pub prog_id: Option<u32>,
}

/// The kind of [`DevMap`]: which kernel map type it accepts and creates, its key and value.
#[derive(Debug)]
pub enum DevMapKind {}

impl Sealed for DevMapKind {}
impl MapKind for DevMapKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_DEVMAP;
    const NAME: &'static str = "DevMap";
}
impl XdpRedirectKind for DevMapKind {
    type Key = u32;
    type Value = DevMapValue;
    fn value(ifindex: u32, prog_id: Option<u32>) -> DevMapValue {
        DevMapValue { ifindex, prog_id }
    }
}
