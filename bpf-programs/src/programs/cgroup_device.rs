//! `cgroup/dev`: device node access control for a cgroup.

use super::cgroup_attach::CgroupProgramKind;
use super::links::define_link_wrapper;
use super::prog_attach_link::LinkOrAttachment;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A cgroup_device attachment to a cgroup.
    CgroupDeviceLink,
    CgroupDeviceLinkId,
    LinkOrAttachment
);

/// A `cgroup_device` program; attach it to a cgroup2 directory.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::CgroupDevice;
/// use bpf_programs::programs::CgroupAttachMode;
///
/// // SEC("cgroup/dev") int on_device(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut CgroupDevice = bpf.program_mut("on_device").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupDevice = TypedProgram<CgroupDeviceKind>;

/// The kind of [`CgroupDevice`] programs.
#[derive(Debug)]
pub enum CgroupDeviceKind {}

impl ProgramKind for CgroupDeviceKind {
    type Link = CgroupDeviceLink;
}

impl LoadWithoutArguments for CgroupDeviceKind {}

impl CgroupProgramKind for CgroupDeviceKind {}
