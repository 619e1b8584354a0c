//! Socket filters (`socket`): run on every packet a socket receives; the return value is how
//! many bytes to keep (0 drops the packet).

use std::os::fd::{AsFd, OwnedFd};

use bpf_sys::socket::{attach_socket_filter, detach_socket_filter};

use super::links::define_link_wrapper;
use super::{DefaultLoad, ProgramData, ProgramError, impl_program_common};

/// Why a socket filter could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SocketFilterError {
    #[error("SO_ATTACH_BPF of program `{program}`")]
    Attach {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("duplicating the socket fd")]
    DupSocket(#[source] std::io::Error),
}

/// A filter on one socket; it holds a duplicate of the socket fd (keeping the socket open)
/// so that dropping it removes the filter from that very socket.
#[derive(Debug)]
pub struct SocketFilterAttachment {
    socket: OwnedFd,
}

impl SocketFilterAttachment {
    fn detach_ref(&self) -> Result<(), ProgramError> {
        detach_socket_filter(self.socket.as_fd()).map_err(ProgramError::syscall("SO_DETACH_BPF"))
    }

    /// Removes the filter now.
    pub fn detach(self) -> Result<(), ProgramError> {
        let result = self.detach_ref();
        std::mem::forget(self);
        result
    }
}

impl Drop for SocketFilterAttachment {
    fn drop(&mut self) {
        // ENOENT: the filter was already replaced or removed by someone else.
        if let Err(e) = self.detach_ref()
            && e.errno() != Some(libc::ENOENT)
        {
            log::warn!("removing a socket filter: {}", crate::ErrorChain(&e));
        }
    }
}

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
#[derive(Debug)]
pub struct SocketFilter {
    pub(crate) data: ProgramData<SocketFilterLink>,
}

impl SocketFilter {
    pub(crate) fn new(data: ProgramData<SocketFilterLink>) -> Self {
        SocketFilter { data }
    }

    /// Loads the program.
    pub fn load(&mut self) -> Result<(), ProgramError> {
        self.data.load()
    }

    /// Attaches to `socket` (`SO_ATTACH_BPF`), replacing any filter it had.
    pub fn attach(&mut self, socket: impl AsFd) -> Result<SocketFilterLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
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
        let inner = SocketFilterAttachment { socket };
        Ok(self.data.links.insert(SocketFilterLink::new(inner)))
    }
}

impl DefaultLoad for SocketFilter {
    fn load_default(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
}

impl_program_common!(SocketFilter, SocketFilterLink);
