//! [`StructOpsLink`]: a registered struct_ops map, unregistered on drop.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use bpf_sys::map::MapFd;

use super::error::StructOpsError;
use crate::programs::{FdLink, PinnedLink};

/// How a registered struct is taken back.
#[derive(Debug)]
pub(super) enum Registration {
    /// `.struct_ops.link`: the link; detaching it unregisters.
    Link(FdLink),
    /// `.struct_ops`: deleting the map's element unregisters.
    MapElement(Option<MapFd>),
}

impl Registration {
    /// A registration by map update, holding its own fd of map `map` to delete the element.
    pub(super) fn map_element(
        map: &str,
        fd: BorrowedFd<'_>,
    ) -> Result<Registration, StructOpsError> {
        let owned: OwnedFd = fd
            .try_clone_to_owned()
            .map_err(|source| StructOpsError::DupFd {
                map: map.to_owned(),
                source,
            })?;
        let fd = MapFd::from_fd(owned).map_err(|source| StructOpsError::Register {
            map: map.to_owned(),
            source,
        })?;
        Ok(Registration::MapElement(Some(fd)))
    }
}

/// A registered struct_ops map; dropping it unregisters the struct.
#[derive(Debug)]
pub struct StructOpsLink {
    map: String,
    registration: Registration,
}

impl StructOpsLink {
    pub(super) fn new(map: String, registration: Registration) -> StructOpsLink {
        StructOpsLink { map, registration }
    }

    /// The struct_ops map registered.
    pub fn map_name(&self) -> &str {
        &self.map
    }

    /// The bpf_link of a `.struct_ops.link` map (to pin it or read its info).
    pub fn link(&self) -> Option<&FdLink> {
        match &self.registration {
            Registration::Link(link) => Some(link),
            Registration::MapElement(_) => None,
        }
    }

    /// Pins the bpf_link of a link registration at `path` (inside bpffs): the struct stays
    /// registered after this process exits, until the pin is removed and the link dropped.
    pub fn pin(mut self, path: impl AsRef<Path>) -> Result<PinnedLink, StructOpsError> {
        match std::mem::replace(&mut self.registration, Registration::MapElement(None)) {
            Registration::Link(link) => link.pin(path).map_err(|source| StructOpsError::Pin {
                map: self.map.clone(),
                source: Box::new(source),
            }),
            element @ Registration::MapElement(_) => {
                self.registration = element;
                Err(StructOpsError::NotALink {
                    map: self.map.clone(),
                })
            }
        }
    }

    pub(super) fn set_map_name(&mut self, map: &str) {
        self.map = map.to_owned();
    }

    /// Unregisters now, reporting a failure that a plain drop would only log.
    pub fn unregister(mut self) -> Result<(), StructOpsError> {
        self.unregister_now()
    }

    fn unregister_now(&mut self) -> Result<(), StructOpsError> {
        match &mut self.registration {
            Registration::Link(_) => Ok(()),
            Registration::MapElement(fd) => match fd.take() {
                Some(fd) => {
                    fd.delete(&0u32.to_ne_bytes())
                        .map_err(|source| StructOpsError::Unregister {
                            map: self.map.clone(),
                            source,
                        })
                }
                None => Ok(()),
            },
        }
    }
}

impl Drop for StructOpsLink {
    fn drop(&mut self) {
        if let Err(e) = self.unregister_now() {
            log::warn!("{e}");
        }
    }
}
