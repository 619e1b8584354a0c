//! Cgroup arrays: `BPF_MAP_TYPE_CGROUP_ARRAY`.

use bpf_sys::generated::bpf_map_type;

use super::fd_array::FdArray;
use super::kind::sealed::Sealed;
use super::kind::{FdArrayKind, MapKind};

/// Cgroups by index, for `bpf_skb_under_cgroup`/`bpf_current_task_under_cgroup`.
///
/// Every method is [`FdArray`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::CgroupArray;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let mut cgroups = CgroupArray::try_from(bpf.map_mut("cgroups").unwrap())?;
/// let service = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// cgroups.set(0, service.as_fd(), 0)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupArray<T> = FdArray<T, CgroupArrayKind>;

/// The kind of [`CgroupArray`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum CgroupArrayKind {}

impl Sealed for CgroupArrayKind {}
impl FdArrayKind for CgroupArrayKind {}
impl MapKind for CgroupArrayKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_CGROUP_ARRAY;
    const NAME: &'static str = "CgroupArray";
}
