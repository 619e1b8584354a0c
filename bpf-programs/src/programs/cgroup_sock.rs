//! `cgroup/sock_create`, `cgroup/sock_release`, `cgroup/post_bind4|6`: socket creation, release and bind.

use super::cgroup_attach::CgroupProgramKind;
use super::links::define_link_wrapper;
use super::prog_attach_link::LinkOrAttachment;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A cgroup_sock attachment to a cgroup.
    CgroupSockLink,
    CgroupSockLinkId,
    LinkOrAttachment
);

/// A `cgroup_sock` program; attach it to a cgroup2 directory.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::CgroupSock;
/// use bpf_programs::programs::CgroupAttachMode;
///
/// // SEC("cgroup/sock_create") int on_sock_create(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut CgroupSock = bpf.program_mut("on_sock_create").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupSock = TypedProgram<CgroupSockKind>;

/// The kind of [`CgroupSock`] programs.
#[derive(Debug)]
pub enum CgroupSockKind {}

impl ProgramKind for CgroupSockKind {
    type Link = CgroupSockLink;
}

impl LoadWithoutArguments for CgroupSockKind {}

impl CgroupProgramKind for CgroupSockKind {}
