//! `sk_msg`: runs on every `sendmsg`/`sendfile` of the sockets in a sockmap or sockhash and
//! may redirect the data to another socket of the map.

use std::os::fd::AsFd;

use bpf_sys::attach::AttachTarget;
use bpf_sys::generated::bpf_attach_type;

use super::ProgramError;
use super::links::define_link_wrapper;
use super::prog_attach_link::{ProgAttachLink, refuse_occupied};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// An `sk_msg` attachment to a sockmap or sockhash.
    SkMsgLink,
    SkMsgLinkId,
    ProgAttachLink
);

/// An `sk_msg` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SkMsg;
/// use bpf_programs::maps::MapData;
/// # let sockets = MapData::from_pin("/sys/fs/bpf/sockets")?;
///
/// // SEC("sk_msg") int redirect(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SkMsg = bpf.program_mut("redirect").unwrap().try_into()?;
/// program.load()?;
/// program.attach(&sockets)?; // the sockmap it runs for
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SkMsg = TypedProgram<SkMsgKind>;

/// The kind of [`SkMsg`] programs.
#[derive(Debug)]
pub enum SkMsgKind {}

impl ProgramKind for SkMsgKind {
    type Link = SkMsgLink;
}

impl LoadWithoutArguments for SkMsgKind {}

impl SkMsg {
    /// Attaches to a sockmap or sockhash (`map` is its fd, e.g. `sock_map.fd()`).
    ///
    /// A map runs one `sk_msg` program, which the kernel would replace silently: a map that
    /// has one already is refused with [`ProgramError::AttachPointBusy`] (or
    /// [`ProgramError::AlreadyAttached`] when it is this program).
    pub fn attach(&mut self, map: impl AsFd) -> Result<SkMsgLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        refuse_occupied(
            self.data.name(),
            prog_fd.as_fd(),
            AttachTarget::Fd(map.as_fd()),
            bpf_attach_type::BPF_SK_MSG_VERDICT,
            &|| "the socket map's sk_msg hook".to_owned(),
        )?;
        let inner = ProgAttachLink::attach(
            prog_fd.as_fd(),
            map.as_fd(),
            bpf_attach_type::BPF_SK_MSG_VERDICT,
            0,
        )
        .map_err(|e| e.of_program(self.data.name()))?;
        Ok(self.data.links.insert(SkMsgLink::new(inner)))
    }
}
