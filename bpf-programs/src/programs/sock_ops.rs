//! `sockops`: TCP events (connect, established, RTO, …) of sockets in a cgroup.

use super::cgroup_attach::CgroupProgramKind;
use super::links::define_link_wrapper;
use super::prog_attach_link::LinkOrAttachment;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A sock_ops attachment to a cgroup.
    SockOpsLink,
    SockOpsLinkId,
    LinkOrAttachment
);

/// A `sock_ops` program; attach it to a cgroup2 directory.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SockOps;
/// use bpf_programs::programs::CgroupAttachMode;
///
/// // SEC("sockops") int on_tcp_event(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SockOps = bpf.program_mut("on_tcp_event").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SockOps = TypedProgram<SockOpsKind>;

/// The kind of [`SockOps`] programs.
#[derive(Debug)]
pub enum SockOpsKind {}

impl ProgramKind for SockOpsKind {
    type Link = SockOpsLink;
}

impl LoadWithoutArguments for SockOpsKind {}

impl CgroupProgramKind for SockOpsKind {}
