//! `sk_reuseport` (and `sk_reuseport/migrate`): picks which socket of a `SO_REUSEPORT` group
//! receives a packet or connection.

use std::os::fd::{AsFd, OwnedFd};

use bpf_sys::reuseport::detach_reuseport_prog;
use bpf_sys::socket::attach_reuseport_prog;

use super::links::define_link_wrapper;
use super::{DefaultLoad, ProgramData, ProgramError, impl_program_common};

/// Why a socket filter could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SkReuseportError {
    #[error("SO_ATTACH_REUSEPORT_EBPF of program `{program}`")]
    Attach {
        program: String,
        #[source]
        source: bpf_sys::SyscallError,
    },
    #[error("duplicating the socket fd")]
    DupSocket(#[source] std::io::Error),
}

/// The program of one reuseport group; it holds a duplicate of the socket fd (keeping the
/// socket open) so that dropping it detaches from that very group.
#[derive(Debug)]
pub struct SkReuseportAttachment {
    socket: OwnedFd,
}

impl SkReuseportAttachment {
    fn detach_ref(&self) -> Result<(), ProgramError> {
        detach_reuseport_prog(self.socket.as_fd()).map_err(|source| ProgramError::Io {
            what: "SO_DETACH_REUSEPORT_BPF".to_owned(),
            source,
        })
    }

    /// Removes the filter now.
    pub fn detach(self) -> Result<(), ProgramError> {
        let result = self.detach_ref();
        std::mem::forget(self);
        result
    }
}

impl Drop for SkReuseportAttachment {
    fn drop(&mut self) {
        // ENOENT: the group has no program any more (replaced or removed elsewhere).
        if let Err(e) = self.detach_ref()
            && e.errno() != Some(libc::ENOENT)
        {
            log::warn!("detaching a reuseport program: {}", crate::ErrorChain(&e));
        }
    }
}

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
#[derive(Debug)]
pub struct SkReuseport {
    pub(crate) data: ProgramData<SkReuseportLink>,
}

impl SkReuseport {
    pub(crate) fn new(data: ProgramData<SkReuseportLink>) -> Self {
        SkReuseport { data }
    }

    /// Loads the program.
    pub fn load(&mut self) -> Result<(), ProgramError> {
        self.data.load()
    }

    /// Attaches to the reuseport group of `socket` (`SO_ATTACH_REUSEPORT_EBPF`; the socket must
    /// have `SO_REUSEPORT` set), replacing the group's program.
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
        let inner = SkReuseportAttachment { socket };
        Ok(self.data.links.insert(SkReuseportLink::new(inner)))
    }
}

impl DefaultLoad for SkReuseport {
    fn load_default(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
}

impl_program_common!(SkReuseport, SkReuseportLink);
