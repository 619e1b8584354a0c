//! `cgroup/connect4`, `bind6`, `sendmsg4`, `recvmsg6`, `getpeername4`, `getsockname_unix`, …: socket address hooks (may rewrite the address).

use super::cgroup_attach::CgroupProgramKind;
use super::links::define_link_wrapper;
use super::prog_attach_link::LinkOrAttachment;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A cgroup_sock_addr attachment to a cgroup.
    CgroupSockAddrLink,
    CgroupSockAddrLinkId,
    LinkOrAttachment
);

/// A `cgroup_sock_addr` program; attach it to a cgroup2 directory.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::CgroupSockAddr;
/// use bpf_programs::programs::CgroupAttachMode;
///
/// // SEC("cgroup/connect4") int on_connect(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut CgroupSockAddr = bpf.program_mut("on_connect").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupAttachMode::AllowMultiple)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupSockAddr = TypedProgram<CgroupSockAddrKind>;

/// The kind of [`CgroupSockAddr`] programs.
#[derive(Debug)]
pub enum CgroupSockAddrKind {}

impl ProgramKind for CgroupSockAddrKind {
    type Link = CgroupSockAddrLink;
}

impl LoadWithoutArguments for CgroupSockAddrKind {}

impl CgroupProgramKind for CgroupSockAddrKind {}
