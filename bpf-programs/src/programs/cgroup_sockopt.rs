//! `cgroup/getsockopt`, `cgroup/setsockopt`: socket options seen (and changed) per cgroup.

use super::cgroup_attach::CgroupProgramKind;
use super::links::define_link_wrapper;
use super::prog_attach_link::LinkOrAttachment;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A cgroup_sockopt attachment to a cgroup.
    CgroupSockoptLink,
    CgroupSockoptLinkId,
    LinkOrAttachment
);

/// A `cgroup_sockopt` program; attach it to a cgroup2 directory.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::CgroupSockopt;
/// use bpf_programs::programs::CgroupAttachMode;
///
/// // SEC("cgroup/getsockopt") int on_getsockopt(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut CgroupSockopt = bpf.program_mut("on_getsockopt").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupSockopt = TypedProgram<CgroupSockoptKind>;

/// The kind of [`CgroupSockopt`] programs.
#[derive(Debug)]
pub enum CgroupSockoptKind {}

impl ProgramKind for CgroupSockoptKind {
    type Link = CgroupSockoptLink;
}

impl LoadWithoutArguments for CgroupSockoptKind {}

impl CgroupProgramKind for CgroupSockoptKind {}
