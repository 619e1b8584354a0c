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
///
/// Whichever way a link ends — [`detach`](Self::detach), a drop (of the link, of its program,
/// of the whole `Bpf`), a failed detach — it closes every fd it holds: nothing it owns
/// outlives it. Attachments that end by an explicit request rather than by closing an fd get
/// that guarantee from [`Attachment`].
pub trait Link: fmt::Debug + Send + 'static {
    /// The id the owning program hands out for this link.
    type Id: fmt::Debug + fmt::Display + Hash + Eq + Copy + Send;

    /// This link's id.
    fn id(&self) -> Self::Id;

    /// Detaches now, reporting failures that a plain drop would swallow; the link's fds are
    /// closed whatever the outcome.
    fn detach(self) -> Result<(), ProgramError>;
}

/// How an attachment that is not a kernel `bpf_link` ends: a socket option,
/// `BPF_PROG_DETACH`, a netlink request. [`Attachment`] makes that request exactly once.
pub trait Detach: fmt::Debug + Send + 'static {
    /// Ends the attachment. Called at most once, by [`Attachment`]; the fds `self` holds are
    /// closed right afterwards whatever it returns.
    fn detach_now(&mut self) -> Result<(), ProgramError>;

    /// Whether `error` means the attachment was already ended elsewhere (replaced, removed by
    /// another process): a drop does not warn about it.
    fn already_gone(&self, error: &ProgramError) -> bool {
        error.errno() == Some(libc::ENOENT)
    }
}

/// An attachment ended by an explicit request ([`Detach`]): the request is made once — by
/// [`detach`](Self::detach), or on drop — and then every fd the attachment holds is closed.
#[derive(Debug)]
pub struct Attachment<T: Detach> {
    target: T,
    detached: bool,
}

impl<T: Detach> Attachment<T> {
    pub(crate) fn new(target: T) -> Attachment<T> {
        Attachment {
            target,
            detached: false,
        }
    }

    /// Detaches now, reporting a failure; the fds are closed either way.
    pub fn detach(mut self) -> Result<(), ProgramError> {
        self.detached = true;
        self.target.detach_now()
    }

    pub(crate) fn target_mut(&mut self) -> &mut T {
        &mut self.target
    }
}

impl<T: Detach> std::ops::Deref for Attachment<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.target
    }
}

impl<T: Detach> Drop for Attachment<T> {
    fn drop(&mut self) {
        if std::mem::replace(&mut self.detached, true) {
            return;
        }
        if let Err(e) = self.target.detach_now()
            && !self.target.already_gone(&e)
        {
            log::warn!("detaching {:?}: {}", self.target, crate::ErrorChain(&e));
        }
    }
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

    /// Detaches the link `id` of `program`; its fds are closed even when the detach fails.
    pub(crate) fn remove(&mut self, program: &str, id: T::Id) -> Result<(), ProgramError> {
        self.take(program, id)?.detach()
    }

    pub(crate) fn take(&mut self, program: &str, id: T::Id) -> Result<T, ProgramError> {
        self.links
            .remove(&id)
            .ok_or_else(|| unknown_link(program, id))
    }

    pub(crate) fn get(&self, program: &str, id: T::Id) -> Result<&T, ProgramError> {
        self.links.get(&id).ok_or_else(|| unknown_link(program, id))
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

fn unknown_link(program: &str, id: impl fmt::Display) -> ProgramError {
    ProgramError::UnknownLink {
        program: program.to_owned(),
        id: id.to_string(),
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
        obj_pin(self.fd.as_fd(), path)
            .map_err(|source| ProgramError::pin(|| "link".to_owned(), path, source))?;
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

    /// Detaches now (a link opened from a pin only closes its fd and stays attached),
    /// reporting a refused `BPF_LINK_DETACH`; the fd is closed either way.
    pub fn detach(mut self) -> Result<(), ProgramError> {
        if !std::mem::take(&mut self.detach_on_drop) {
            return Ok(());
        }
        match link_detach(self.fd.as_fd()) {
            Err(e) if !closing_ends_it(e.errno()) => Err(ProgramError::syscall("link detach")(e)),
            _ => Ok(()),
        }
    }
}

/// Whether a `BPF_LINK_DETACH` failure only means that closing the fd is how this link ends:
/// link kinds without a detach operation (perf events, tracing), or kernels before 5.9.
fn closing_ends_it(errno: Option<i32>) -> bool {
    matches!(errno, Some(libc::EOPNOTSUPP | libc::EINVAL))
}

impl Drop for FdLink {
    fn drop(&mut self) {
        if self.detach_on_drop
            && let Err(e) = link_detach(self.fd.as_fd())
            && !closing_ends_it(e.errno())
        {
            // Closing the fd just below still ends the attachment once no one else holds it.
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

    /// Opens the link with kernel id `id` and reads its info.
    pub fn from_id(id: u32) -> Result<LinkInfo, ProgramError> {
        let fd = fd_by_id(ObjectKind::Link, id, 0).map_err(|source| ProgramError::ById {
            kind: "link",
            id,
            source,
        })?;
        LinkInfo::from_fd(fd.as_fd())
    }

    /// The kernel's link id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// A raw tracepoint's name or an iterator's target (empty for other link types).
    pub fn target_name(&self) -> &str {
        &self.0.target_name
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

        impl std::fmt::Display for $id {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "#{}", self.0)
            }
        }

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

        impl From<$inner> for $wrapper {
            fn from(inner: $inner) -> Self {
                $wrapper::new(inner)
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

#[cfg(test)]
mod tests {
    use std::io::{ErrorKind, Read};
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// An attachment holding one end of a socket pair: the other end reads EOF once it closes.
    #[derive(Debug)]
    pub struct Fake {
        _held: UnixStream,
        detaches: Arc<AtomicUsize>,
        fail_with: Option<i32>,
    }

    impl Detach for Fake {
        fn detach_now(&mut self) -> Result<(), ProgramError> {
            self.detaches.fetch_add(1, Ordering::Relaxed);
            match self.fail_with {
                Some(errno) => Err(ProgramError::Io {
                    what: "fake detach".to_owned(),
                    source: std::io::Error::from_raw_os_error(errno),
                }),
                None => Ok(()),
            }
        }
    }

    define_link_wrapper!(FakeLink, FakeLinkId, Attachment<Fake>);

    struct Probe {
        peer: UnixStream,
        detaches: Arc<AtomicUsize>,
    }

    impl Probe {
        fn closed(&mut self) -> bool {
            match self.peer.read(&mut [0u8; 1]) {
                Ok(0) => true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                other => panic!("unexpected read result {other:?}"),
            }
        }

        fn detaches(&self) -> usize {
            self.detaches.load(Ordering::Relaxed)
        }
    }

    fn fake(fail_with: Option<i32>) -> (FakeLink, Probe) {
        let (held, peer) = UnixStream::pair().unwrap();
        peer.set_nonblocking(true).unwrap();
        let detaches = Arc::new(AtomicUsize::new(0));
        let link = FakeLink::new(Attachment::new(Fake {
            _held: held,
            detaches: detaches.clone(),
            fail_with,
        }));
        (link, Probe { peer, detaches })
    }

    #[test]
    fn explicit_detach_requests_once_and_closes() {
        let (link, mut probe) = fake(None);
        assert!(!probe.closed());
        link.detach().unwrap();
        assert_eq!(probe.detaches(), 1);
        assert!(probe.closed());
    }

    #[test]
    fn failed_detach_reports_and_still_closes() {
        let (link, mut probe) = fake(Some(libc::EPERM));
        let error = link.detach().unwrap_err();
        assert_eq!(error.errno(), Some(libc::EPERM));
        assert_eq!(probe.detaches(), 1, "no second attempt on drop");
        assert!(probe.closed());
    }

    #[test]
    fn drop_requests_once_and_closes() {
        let (link, mut probe) = fake(Some(libc::ENOENT));
        drop(link);
        assert_eq!(probe.detaches(), 1);
        assert!(probe.closed());
    }

    #[test]
    fn every_link_map_path_closes() {
        let mut map = LinkMap::default();
        let (a, mut removed) = fake(None);
        let (b, mut taken) = fake(None);
        let (c, mut cleared) = fake(Some(libc::EBUSY));
        let (d, mut dropped) = fake(None);
        let (a, b) = (map.insert(a), map.insert(b));
        map.insert(c);
        map.insert(d);

        map.remove("prog", a).unwrap();
        assert!(removed.closed());
        let error = map.remove("prog", a).unwrap_err().to_string();
        assert!(
            error.contains("`prog`") && error.contains(&a.to_string()),
            "{error}"
        );

        let link = map.take("prog", b).unwrap();
        assert!(!taken.closed(), "a taken link stays attached");
        drop(link);
        assert!(taken.closed());

        map.clear();
        assert!(cleared.closed());
        assert!(dropped.closed());
        for probe in [&removed, &taken, &cleared, &dropped] {
            assert_eq!(probe.detaches(), 1);
        }
    }

    #[test]
    fn dropping_the_map_closes_its_links() {
        let mut map = LinkMap::default();
        let (link, mut probe) = fake(None);
        map.insert(link);
        drop(map);
        assert_eq!(probe.detaches(), 1);
        assert!(probe.closed());
    }

    #[test]
    fn link_ids_display_as_numbers() {
        let (link, _probe) = fake(None);
        let shown = link.id().to_string();
        assert!(
            shown.starts_with('#') && shown[1..].parse::<u64>().is_ok(),
            "{shown}"
        );
    }
}
