//! `cgroup/sysctl`: reads and writes of `/proc/sys` by processes of a cgroup.

use super::cgroup_attach::CgroupProgramKind;
use super::links::define_link_wrapper;
use super::prog_attach_link::LinkOrAttachment;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A cgroup_sysctl attachment to a cgroup.
    CgroupSysctlLink,
    CgroupSysctlLinkId,
    LinkOrAttachment
);

/// A `cgroup_sysctl` program; attach it to a cgroup2 directory.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::CgroupSysctl;
/// use bpf_programs::programs::CgroupAttachMode;
///
/// // SEC("cgroup/sysctl") int on_sysctl(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut CgroupSysctl = bpf.program_mut("on_sysctl").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupSysctl = TypedProgram<CgroupSysctlKind>;

/// The kind of [`CgroupSysctl`] programs.
#[derive(Debug)]
pub enum CgroupSysctlKind {}

impl ProgramKind for CgroupSysctlKind {
    type Link = CgroupSysctlLink;
}

impl LoadWithoutArguments for CgroupSysctlKind {}

impl CgroupProgramKind for CgroupSysctlKind {}
