//! `cgroup_skb/ingress|egress` (and `cgroup/skb`): packets entering or leaving the sockets of a
//! cgroup; the program returns 1 to let a packet through, 0 to drop it.

use std::os::fd::AsFd;

use bpf_sys::generated::bpf_attach_type;

use super::cgroup_attach::attach_to_cgroup;
use super::links::define_link_wrapper;
use super::prog_attach_link::{AttachMethod, LinkOrAttachment};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{CgroupAttachMode, ProgramError};

/// Which direction of a cgroup's traffic the program sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupSkbAttachType {
    /// Packets received by the cgroup's sockets.
    Ingress,
    /// Packets sent by the cgroup's sockets.
    Egress,
}

impl CgroupSkbAttachType {
    fn raw(self) -> bpf_attach_type::Type {
        match self {
            CgroupSkbAttachType::Ingress => bpf_attach_type::BPF_CGROUP_INET_INGRESS,
            CgroupSkbAttachType::Egress => bpf_attach_type::BPF_CGROUP_INET_EGRESS,
        }
    }
}

define_link_wrapper!(
    /// A `cgroup_skb` attachment to a cgroup.
    CgroupSkbLink,
    CgroupSkbLinkId,
    LinkOrAttachment
);

/// A `cgroup_skb` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::CgroupSkb;
/// use bpf_programs::programs::{CgroupAttachMode, CgroupSkbAttachType};
///
/// // SEC("cgroup_skb/ingress") int count_packets(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut CgroupSkb = bpf.program_mut("count_packets").unwrap().try_into()?;
/// program.load()?;
/// let cgroup = std::fs::File::open("/sys/fs/cgroup/unified/my-service")?;
/// program.attach(&cgroup, CgroupSkbAttachType::Ingress, CgroupAttachMode::Single)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type CgroupSkb = TypedProgram<CgroupSkbKind>;

/// The kind of [`CgroupSkb`] programs.
#[derive(Debug)]
pub enum CgroupSkbKind {}

impl ProgramKind for CgroupSkbKind {
    type Link = CgroupSkbLink;
}

impl LoadWithoutArguments for CgroupSkbKind {}

impl CgroupSkb {
    /// The direction named by the section (`cgroup_skb/ingress|egress`), if any.
    pub fn expected_attach_type(&self) -> Option<CgroupSkbAttachType> {
        let raw = self
            .data
            .section()
            .and_then(|section| section.expected_attach_type())?;
        match raw {
            bpf_attach_type::BPF_CGROUP_INET_INGRESS => Some(CgroupSkbAttachType::Ingress),
            bpf_attach_type::BPF_CGROUP_INET_EGRESS => Some(CgroupSkbAttachType::Egress),
            _ => None,
        }
    }

    /// Attaches to `cgroup` (a cgroup2 directory fd) for `attach_type` traffic: a `bpf_link`
    /// where the kernel has them and `mode` allows (see [`CgroupAttachMode`] for what a second
    /// attach does), else `BPF_PROG_ATTACH` with `mode`.
    pub fn attach(
        &mut self,
        cgroup: impl AsFd,
        attach_type: CgroupSkbAttachType,
        mode: CgroupAttachMode,
    ) -> Result<CgroupSkbLinkId, ProgramError> {
        self.attach_with_method(cgroup, attach_type, mode, AttachMethod::Auto)
    }

    /// Like [`attach`](Self::attach), choosing the kernel interface.
    pub fn attach_with_method(
        &mut self,
        cgroup: impl AsFd,
        attach_type: CgroupSkbAttachType,
        mode: CgroupAttachMode,
        method: AttachMethod,
    ) -> Result<CgroupSkbLinkId, ProgramError> {
        let inner = attach_to_cgroup(&self.data, cgroup.as_fd(), attach_type.raw(), mode, method)?;
        Ok(self.data.links.insert(CgroupSkbLink::new(inner)))
    }
}
