//! `sk_skb/stream_parser|stream_verdict|verdict`: packets received by the sockets of a sockmap
//! or sockhash, parsed into messages and given a verdict (pass, drop, redirect).

use std::os::fd::AsFd;

use bpf_sys::attach::AttachTarget;
use bpf_sys::generated::bpf_attach_type;

use super::ProgramError;
use super::links::define_link_wrapper;
use super::prog_attach_link::{ProgAttachLink, refuse_occupied};
pub use super::type_errors::SkSkbError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

/// Which `sk_skb` hook of a sockmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkSkbKind {
    /// Finds message boundaries in a TCP stream.
    StreamParser,
    /// Decides what happens to each parsed message.
    StreamVerdict,
    /// Decides per packet, without a parser (UDP, unix, TCP).
    Verdict,
}

impl SkSkbKind {
    fn raw(self) -> bpf_attach_type::Type {
        match self {
            SkSkbKind::StreamParser => bpf_attach_type::BPF_SK_SKB_STREAM_PARSER,
            SkSkbKind::StreamVerdict => bpf_attach_type::BPF_SK_SKB_STREAM_VERDICT,
            SkSkbKind::Verdict => bpf_attach_type::BPF_SK_SKB_VERDICT,
        }
    }
}

define_link_wrapper!(
    /// An `sk_skb` attachment to a sockmap or sockhash.
    SkSkbLink,
    SkSkbLinkId,
    ProgAttachLink
);

/// An `sk_skb` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SkSkb;
/// use bpf_programs::maps::MapData;
/// # let sockets = MapData::from_pin("/sys/fs/bpf/sockets")?;
///
/// // SEC("sk_skb/stream_verdict") int verdict(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SkSkb = bpf.program_mut("verdict").unwrap().try_into()?;
/// program.load()?;
/// program.attach(&sockets)?; // as the section says: stream parser, stream verdict or verdict
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SkSkb = TypedProgram<SkSkbProgramKind>;

/// The kind of [`SkSkb`] programs.
#[derive(Debug)]
pub enum SkSkbProgramKind {}

impl ProgramKind for SkSkbProgramKind {
    type Link = SkSkbLink;
}

impl LoadWithoutArguments for SkSkbProgramKind {}

impl SkSkb {
    /// The hook named by the section, if any.
    pub fn kind(&self) -> Option<SkSkbKind> {
        match self.data.section()?.expected_attach_type()? {
            bpf_attach_type::BPF_SK_SKB_STREAM_PARSER => Some(SkSkbKind::StreamParser),
            bpf_attach_type::BPF_SK_SKB_STREAM_VERDICT => Some(SkSkbKind::StreamVerdict),
            bpf_attach_type::BPF_SK_SKB_VERDICT => Some(SkSkbKind::Verdict),
            _ => None,
        }
    }

    /// Attaches to a sockmap or sockhash as the hook its section names.
    pub fn attach(&mut self, map: impl AsFd) -> Result<SkSkbLinkId, ProgramError> {
        let kind = self.kind().ok_or_else(|| SkSkbError::NoKind {
            program: self.data.name().to_owned(),
        })?;
        self.attach_as(map, kind)
    }

    /// Attaches to a sockmap or sockhash as `kind`.
    ///
    /// A map runs one program per hook, which the kernel would replace silently: a hook that
    /// has one already is refused with [`ProgramError::AttachPointBusy`] (or
    /// [`ProgramError::AlreadyAttached`] when it is this program).
    pub fn attach_as(
        &mut self,
        map: impl AsFd,
        kind: SkSkbKind,
    ) -> Result<SkSkbLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        refuse_occupied(
            self.data.name(),
            prog_fd.as_fd(),
            AttachTarget::Fd(map.as_fd()),
            kind.raw(),
            &|| format!("the socket map's {kind:?} hook"),
        )?;
        let inner = ProgAttachLink::attach(prog_fd.as_fd(), map.as_fd(), kind.raw(), 0)
            .map_err(|e| e.of_program(self.data.name()))?;
        Ok(self.data.links.insert(SkSkbLink::new(inner)))
    }
}
