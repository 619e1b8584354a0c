//! `sk_lookup`: picks the listening socket for an incoming connection or datagram of a network
//! namespace (before the regular lookup).

use std::os::fd::AsFd;

use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};

use super::ProgramError;
use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::SkLookupError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// An `sk_lookup` attachment to a network namespace.
    SkLookupLink,
    SkLookupLinkId,
    FdLink
);

/// An `sk_lookup` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SkLookup;
///
/// // SEC("sk_lookup") int steer(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SkLookup = bpf.program_mut("steer").unwrap().try_into()?;
/// program.load()?;
/// let netns = std::fs::File::open("/proc/self/ns/net")?;
/// program.attach(&netns)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SkLookup = TypedProgram<SkLookupKind>;

/// The kind of [`SkLookup`] programs.
#[derive(Debug)]
pub enum SkLookupKind {}

impl ProgramKind for SkLookupKind {
    type Link = SkLookupLink;
}

impl LoadWithoutArguments for SkLookupKind {}

impl SkLookup {
    /// Attaches to the network namespace `netns` (e.g. an open `/proc/self/ns/net`); the kernel
    /// only has `bpf_link`s for this hook.
    pub fn attach(&mut self, netns: impl AsFd) -> Result<SkLookupLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let fd = link_create(&LinkCreateAttr {
            prog_fd: prog_fd.as_fd(),
            target: LinkTarget::Fd(netns.as_fd()),
            attach_type: bpf_attach_type::BPF_SK_LOOKUP,
            flags: 0,
            kind: LinkKind::Plain,
        })
        .map_err(|source| SkLookupError::Attach {
            program: self.data.name().to_owned(),
            source,
        })?;
        Ok(self.data.links.insert(SkLookupLink::new(FdLink::new(fd))))
    }
}
