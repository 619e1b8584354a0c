//! Socket filters (`socket`): run on every packet a socket receives; the return value is how
//! many bytes to keep (0 drops the packet).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use bpf_sys::socket::{attach_socket_filter, detach_socket_filter, socket_filter_attached};

use super::ProgramError;
use super::links::{Attachment, Detach, define_link_wrapper};
pub use super::type_errors::SocketFilterError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

/// The socket a filter is attached to: a duplicate of the socket fd (keeping the socket open)
/// so that the detach removes the filter from that very socket, closed with the attachment.
#[derive(Debug)]
pub struct FilteredSocket {
    socket: OwnedFd,
}

impl FilteredSocket {
    /// The socket.
    pub fn socket(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Detach for FilteredSocket {
    fn detach_now(&mut self) -> Result<(), ProgramError> {
        detach_socket_filter(self.socket.as_fd()).map_err(ProgramError::syscall("SO_DETACH_BPF"))
    }
}

/// A filter on one socket; dropping it removes the filter.
pub type SocketFilterAttachment = Attachment<FilteredSocket>;

define_link_wrapper!(
    /// A socket filter attachment.
    SocketFilterLink,
    SocketFilterLinkId,
    SocketFilterAttachment
);

/// A `socket_filter` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::SocketFilter;
///
/// // SEC("socket") int drop_big(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut SocketFilter = bpf.program_mut("drop_big").unwrap().try_into()?;
/// program.load()?;
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// program.attach(&socket)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type SocketFilter = TypedProgram<SocketFilterKind>;

/// The kind of [`SocketFilter`] programs.
#[derive(Debug)]
pub enum SocketFilterKind {}

impl ProgramKind for SocketFilterKind {
    type Link = SocketFilterLink;
}

impl LoadWithoutArguments for SocketFilterKind {}

impl SocketFilter {
    /// Attaches to `socket` (`SO_ATTACH_BPF`).
    ///
    /// A socket has one filter, and the kernel would silently replace it (after which
    /// detaching the first link would remove the second's filter): a socket that already has a
    /// filter — this program's, another's, or a classic one — is refused with
    /// [`ProgramError::AttachPointBusy`]. Detach (or drop) the first link to attach again.
    pub fn attach(&mut self, socket: impl AsFd) -> Result<SocketFilterLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let has_filter =
            socket_filter_attached(socket.as_fd()).map_err(|source| ProgramError::Io {
                what: format!(
                    "asking the socket for its filter (program `{}`)",
                    self.data.name()
                ),
                source,
            })?;
        if has_filter {
            return Err(ProgramError::AttachPointBusy {
                program: self.data.name().to_owned(),
                target: format!("socket fd {}", socket.as_fd().as_raw_fd()),
                occupant: "a socket filter".to_owned(),
                source: None,
            });
        }
        let socket = socket
            .as_fd()
            .try_clone_to_owned()
            .map_err(SocketFilterError::DupSocket)?;
        attach_socket_filter(socket.as_fd(), prog_fd.as_fd()).map_err(|source| {
            SocketFilterError::Attach {
                program: self.data.name().to_owned(),
                source,
            }
        })?;
        let inner = Attachment::new(FilteredSocket { socket });
        Ok(self.data.links.insert(SocketFilterLink::new(inner)))
    }
}
