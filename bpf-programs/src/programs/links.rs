//! Links: what `attach` returns. A program owns its links and detaches them when dropped;
//! `take_link` hands one out so that it outlives the program.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::link_info;
use bpf_sys::link::link_detach;
use bpf_sys::obj::{obj_get, obj_pin};

use super::ProgramError;

/// An attachment of a program; dropping it detaches the program (unless the link is pinned).
pub trait Link: fmt::Debug + Send + 'static {
    /// The id the owning program hands out for this link.
    type Id: fmt::Debug + Hash + Eq + Copy + Send;

    /// This link's id.
    fn id(&self) -> Self::Id;

    /// Detaches now, reporting failures that a plain drop would swallow.
    fn detach(self) -> Result<(), ProgramError>;
}

/// A process-wide unique number for link ids.
pub(crate) fn next_link_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The links a program owns, by id.
#[derive(Debug)]
pub(crate) struct LinkMap<T: Link> {
    links: HashMap<T::Id, T>,
}

impl<T: Link> Default for LinkMap<T> {
    fn default() -> Self {
        LinkMap {
            links: HashMap::new(),
        }
    }
}

impl<T: Link> LinkMap<T> {
    pub(crate) fn insert(&mut self, link: T) -> T::Id {
        let id = link.id();
        self.links.insert(id, link);
        id
    }

    pub(crate) fn remove(&mut self, id: T::Id) -> Result<(), ProgramError> {
        self.take(id)?.detach()
    }

    pub(crate) fn take(&mut self, id: T::Id) -> Result<T, ProgramError> {
        self.links
            .remove(&id)
            .ok_or_else(|| ProgramError::UnknownLink {
                id: format!("{id:?}"),
            })
    }

    pub(crate) fn get(&self, id: T::Id) -> Result<&T, ProgramError> {
        self.links
            .get(&id)
            .ok_or_else(|| ProgramError::UnknownLink {
                id: format!("{id:?}"),
            })
    }

    pub(crate) fn len(&self) -> usize {
        self.links.len()
    }

    pub(crate) fn clear(&mut self) {
        for (_, link) in self.links.drain() {
            if let Err(e) = link.detach() {
                log::warn!("detaching a link failed: {}", crate::ErrorChain(&e));
            }
        }
    }
}

impl<T: Link> Drop for LinkMap<T> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A kernel `bpf_link` fd. Dropping a link this process attached detaches it at once; a link
/// opened from a pin only closes its fd.
#[derive(Debug)]
pub struct FdLink {
    fd: OwnedFd,
    /// Set for attachments made here: `BPF_LINK_DETACH` on drop ends them even while a forked
    /// child still holds an inherited copy of the fd.
    detach_on_drop: bool,
}

impl FdLink {
    pub(crate) fn new(fd: OwnedFd) -> FdLink {
        FdLink {
            fd,
            detach_on_drop: true,
        }
    }

    fn from_pin_fd(fd: OwnedFd) -> FdLink {
        FdLink {
            fd,
            detach_on_drop: false,
        }
    }

    /// The link fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Pins the link at `path` (inside bpffs); the attachment then survives this process.
    pub fn pin(mut self, path: impl AsRef<Path>) -> Result<PinnedLink, ProgramError> {
        let path = path.as_ref();
        crate::kernel::fs::prepare_pin(path).map_err(|source| ProgramError::PinFilesystem {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        obj_pin(self.fd.as_fd(), path).map_err(|source| {
            ProgramError::Pin {
                path: path.to_owned(),
                source,
            }
            .explain_denied(|| crate::kernel::permission::Operation::Pin {
                path: path.to_owned(),
            })
        })?;
        self.detach_on_drop = false;
        Ok(PinnedLink {
            link: self,
            path: path.to_owned(),
        })
    }

    /// The kernel's view of this link.
    pub fn info(&self) -> Result<LinkInfo, ProgramError> {
        LinkInfo::from_fd(self.fd.as_fd())
    }

    /// Detaches the program from its target even if other references (pins, fds) keep the link.
    pub fn detach_everywhere(&self) -> Result<(), ProgramError> {
        link_detach(self.fd.as_fd()).map_err(ProgramError::syscall("link detach"))
    }

    /// Detaches now (a link opened from a pin only closes its fd and stays attached).
    pub fn detach(self) -> Result<(), ProgramError> {
        drop(self);
        Ok(())
    }
}

impl Drop for FdLink {
    fn drop(&mut self) {
        if self.detach_on_drop
            && let Err(e) = link_detach(self.fd.as_fd())
        {
            // Link kinds without BPF_LINK_DETACH end when their last fd closes, just below.
            log::debug!(
                "BPF_LINK_DETACH failed, closing the link instead: {}",
                crate::ErrorChain(&e)
            );
        }
    }
}

impl AsFd for FdLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A link pinned in bpffs.
#[derive(Debug)]
pub struct PinnedLink {
    link: FdLink,
    path: PathBuf,
}

impl PinnedLink {
    /// Opens the link pinned at `path`.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<PinnedLink, ProgramError> {
        let path = path.as_ref();
        let fd = obj_get(path, 0).map_err(|source| ProgramError::Pin {
            path: path.to_owned(),
            source,
        })?;
        Ok(PinnedLink {
            link: FdLink::from_pin_fd(fd),
            path: path.to_owned(),
        })
    }

    /// The pin's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The link.
    pub fn link(&self) -> &FdLink {
        &self.link
    }

    /// Removes the pin; the returned link detaches when dropped.
    pub fn unpin(mut self) -> Result<FdLink, ProgramError> {
        std::fs::remove_file(&self.path).map_err(|source| ProgramError::Io {
            what: format!("removing pin {}", self.path.display()),
            source,
        })?;
        self.link.detach_on_drop = true;
        Ok(self.link)
    }
}

/// A link's kernel info: id, type, program id.
#[derive(Debug, Clone)]
pub struct LinkInfo(bpf_sys::info::LinkInfo);

impl LinkInfo {
    pub(crate) fn from_fd(fd: BorrowedFd<'_>) -> Result<LinkInfo, ProgramError> {
        link_info(fd)
            .map(LinkInfo)
            .map_err(ProgramError::syscall("link info"))
    }

    /// The kernel's link id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// `bpf_link_type::BPF_LINK_TYPE_*`.
    pub fn link_type(&self) -> u32 {
        self.0.link_type()
    }

    /// Id of the attached program.
    pub fn program_id(&self) -> u32 {
        self.0.prog_id()
    }

    /// What the link is attached to (per link type).
    pub fn details(&self) -> bpf_sys::info::LinkDetails {
        self.0.details()
    }

    /// The raw kernel struct, for type-specific details.
    pub fn raw(&self) -> &bpf_sys::generated::bpf_link_info {
        &self.0.info
    }
}

/// Every link in the kernel (needs `CAP_SYS_ADMIN`); links that vanish while listing are skipped.
pub fn loaded_links() -> impl Iterator<Item = Result<LinkInfo, ProgramError>> {
    ids(ObjectKind::Link).filter_map(|id| {
        let id = match id {
            Ok(id) => id,
            Err(e) => return Some(Err(ProgramError::syscall("link ids")(e))),
        };
        match fd_by_id(ObjectKind::Link, id, 0) {
            Ok(fd) => Some(LinkInfo::from_fd(fd.as_fd())),
            Err(e) if e.errno() == Some(libc::ENOENT) => None,
            Err(e) => Some(Err(ProgramError::syscall("link by id")(e))),
        }
    })
}

/// Defines a program type's link wrapper and its id around an inner link kind.
macro_rules! define_link_wrapper {
    ($(#[$doc:meta])* $wrapper:ident, $id:ident, $inner:ty) => {
        #[doc = concat!("Id of a [`", stringify!($wrapper), "`] owned by its program.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $id(u64);

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $wrapper {
            id: $id,
            inner: $inner,
        }

        impl $wrapper {
            #[allow(dead_code)] // Some wrappers are only ever built by hand-written attach code.
            pub(crate) fn new(inner: $inner) -> Self {
                $wrapper {
                    id: $id($crate::programs::links::next_link_number()),
                    inner,
                }
            }

            /// The underlying link.
            pub fn inner(&self) -> &$inner {
                &self.inner
            }

            /// Gives up the wrapper; the inner link still detaches when dropped.
            pub fn into_inner(self) -> $inner {
                self.inner
            }
        }

        impl $crate::programs::links::Link for $wrapper {
            type Id = $id;

            fn id(&self) -> $id {
                self.id
            }

            fn detach(self) -> Result<(), $crate::programs::ProgramError> {
                self.inner.detach()
            }
        }

        impl From<$wrapper> for $inner {
            fn from(w: $wrapper) -> $inner {
                w.inner
            }
        }
    };
}

pub(crate) use define_link_wrapper;
