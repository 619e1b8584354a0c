//! CPU maps for XDP redirection: `BPF_MAP_TYPE_CPUMAP`.

use bpf_sys::generated::bpf_map_type;

use super::kind::sealed::Sealed;
use super::kind::{MapKind, XdpRedirectKind};
use super::xdp_redirect::XdpRedirectMap;

/// Per-CPU redirect queues by CPU id, for `bpf_redirect_map` from XDP (`BPF_MAP_TYPE_CPUMAP`).
///
/// Every method is [`XdpRedirectMap`]'s; [`get`](XdpRedirectMap::get) reads a
/// [`CpuMapValue`].
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::CpuMap;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut cpus = CpuMap::try_from(bpf.map_mut("cpus").unwrap())?;
/// cpus.set(1, 2048, None, 0)?; // CPU 1, a queue of 2048 frames
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CpuMap<T> = XdpRedirectMap<T, CpuMapKind>;

/// A slot of a [`CpuMap`]: the target and the program run on redirected frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuMapValue {
    /// `queue_size` of the slot: the frame queue of the CPU.
    pub queue_size: u32,
    /// Id of the program attached to the slot, if any.
    pub prog_id: Option<u32>,
}

/// The kind of [`CpuMap`]: which kernel map type it accepts and creates, its key and value.
#[derive(Debug)]
pub enum CpuMapKind {}

impl Sealed for CpuMapKind {}
impl MapKind for CpuMapKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CPUMAP;
    const NAME: &'static str = "CpuMap";
}
impl XdpRedirectKind for CpuMapKind {
    type Key = u32;
    type Value = CpuMapValue;
    fn value(queue_size: u32, prog_id: Option<u32>) -> CpuMapValue {
        CpuMapValue {
            queue_size,
            prog_id,
        }
    }
}
