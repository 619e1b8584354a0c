//! `sk_reuseport` (and `sk_reuseport/migrate`): picks which socket of a `SO_REUSEPORT` group
//! receives a packet or connection.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use bpf_sys::reuseport::detach_reuseport_prog;
use bpf_sys::socket::attach_reuseport_prog;

use super::ProgramError;
use super::links::{Attachment, Detach, define_link_wrapper};
pub use super::type_errors::SkReuseportError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

/// The socket through which a reuseport group got its program: a duplicate of the socket fd
/// (keeping the socket open) so that the detach acts on that very group, closed with the
/// attachment.
#[derive(Debug)]
pub struct ReuseportSocket {
    socket: OwnedFd,
}

impl ReuseportSocket {
    /// The socket.
    pub fn socket(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Detach for ReuseportSocket {
    fn detach_now(&mut self) -> Result<(), ProgramError> {
        detach_reuseport_prog(self.socket.as_fd()).map_err(|source| ProgramError::Io {
            what: "SO_DETACH_REUSEPORT_BPF".to_owned(),
            source,
        })
    }
}

/// The program of one reuseport group; dropping it detaches it.
pub type SkReuseportAttachment = Attachment<ReuseportSocket>;

define_link_wrapper!(
    /// A reuseport group attachment.
    SkReuseportLink,
    SkReuseportLinkId,
    SkReuseportAttachment
);

/// A `sk_reuseport` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SkReuseport;
///
/// // SEC("sk_reuseport") int pick(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SkReuseport = bpf.program_mut("pick").unwrap().try_into()?;
/// program.load()?;
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?; // one of the SO_REUSEPORT group
/// program.attach(&socket)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SkReuseport = TypedProgram<SkReuseportKind>;

/// The kind of [`SkReuseport`] programs.
#[derive(Debug)]
pub enum SkReuseportKind {}

impl ProgramKind for SkReuseportKind {
    type Link = SkReuseportLink;
}

impl LoadWithoutArguments for SkReuseportKind {}

impl SkReuseport {
    /// Attaches to the reuseport group of `socket` (`SO_ATTACH_REUSEPORT_EBPF`; the socket must
    /// have `SO_REUSEPORT` set), replacing the group's program.
    ///
    /// A group runs one program and the kernel tells no one which: a second attach (through
    /// any socket of the group, this program or another) replaces it. Detaching then acts on
    /// the group, not on one attachment: detaching either link removes whatever program the
    /// group runs at that moment, and the other link's detach fails with `ENOENT` (its drop
    /// is silent). Keep one link per group.
    pub fn attach(&mut self, socket: impl AsFd) -> Result<SkReuseportLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let socket = socket
            .as_fd()
            .try_clone_to_owned()
            .map_err(SkReuseportError::DupSocket)?;
        attach_reuseport_prog(socket.as_fd(), prog_fd.as_fd()).map_err(|source| {
            SkReuseportError::Attach {
                program: self.data.name().to_owned(),
                source,
            }
        })?;
        let inner = Attachment::new(ReuseportSocket { socket });
        Ok(self.data.links.insert(SkReuseportLink::new(inner)))
    }
}
