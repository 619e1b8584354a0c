//! Registering a struct_ops map: loading the programs it points at, handing the struct to the
//! kernel, and switching a link registration over to another map.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd};

use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create, link_update_map};

use super::error::StructOpsError;
use super::link::{Registration, StructOpsLink};
use super::map::StructOps;
use crate::programs::{FdLink, Program};

impl StructOps {
    /// Registers the struct with the kernel, its function pointers set to the loaded programs
    /// `program_fds` gives by name. A `.struct_ops` map is registered by the map update; a
    /// `.struct_ops.link` map by a bpf_link. Either way the returned link unregisters on drop
    /// (a `.struct_ops` map cannot be registered again afterwards; a link map can).
    pub fn register_with_fds(
        &mut self,
        program_fds: &[(&str, BorrowedFd<'_>)],
    ) -> Result<StructOpsLink, StructOpsError> {
        self.write_value(program_fds)?;
        let name = self.name().to_owned();
        let map_fd = self.fd()?;
        let registration = if self.uses_link() {
            let fd = link_create(&LinkCreateAttr {
                prog_fd: map_fd,
                target: LinkTarget::None,
                attach_type: bpf_attach_type::BPF_STRUCT_OPS,
                flags: 0,
                kind: LinkKind::Plain,
            })
            .map_err(|source| StructOpsError::Link {
                map: name.clone(),
                source,
            })?;
            Registration::Link(FdLink::new(fd))
        } else {
            Registration::map_element(&name, map_fd)?
        };
        Ok(StructOpsLink::new(name, registration))
    }

    /// Loads the programs the struct points at that are not loaded yet and returns their fds.
    fn load_programs<'p>(
        &self,
        programs: &'p mut BTreeMap<String, Program>,
    ) -> Result<Vec<(&'p str, BorrowedFd<'p>)>, StructOpsError> {
        self.fd()?;
        let wanted: Vec<String> = self
            .program_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for program_name in &wanted {
            let program =
                programs
                    .get_mut(program_name)
                    .ok_or_else(|| StructOpsError::ProgramMissing {
                        map: self.name().to_owned(),
                        program: program_name.clone(),
                    })?;
            if program.fd().is_err() {
                program
                    .load()
                    .map_err(|source| StructOpsError::ProgramLoad {
                        map: self.name().to_owned(),
                        program: program_name.clone(),
                        source: Box::new(source),
                    })?;
            }
        }
        let programs: &'p BTreeMap<String, Program> = programs;
        Ok(wanted
            .iter()
            .filter_map(|name| {
                let (name, program) = programs.get_key_value(name)?;
                Some((name.as_str(), program.fd().ok()?.as_fd()))
            })
            .collect())
    }

    /// Loads the programs the struct points at (those not loaded yet), then registers it
    /// ([`register_with_fds`](Self::register_with_fds)).
    pub(crate) fn register(
        &mut self,
        programs: &mut BTreeMap<String, Program>,
    ) -> Result<StructOpsLink, StructOpsError> {
        let fds = self.load_programs(programs)?;
        self.register_with_fds(&fds)
    }

    /// Loads this map's programs and switches `link` over to this map.
    pub(crate) fn take_over(
        &mut self,
        link: &mut StructOpsLink,
        programs: &mut BTreeMap<String, Program>,
    ) -> Result<(), StructOpsError> {
        let fds = self.load_programs(programs)?;
        link.update_map_with_fds(self, &fds)
    }
}

impl StructOpsLink {
    /// Switches this link registration over to struct_ops map `new` (same struct type, a
    /// `.struct_ops.link` map; Linux 6.4+), its function pointers set to `program_fds`: the
    /// kernel swaps the struct in place, e.g. for a congestion control without unregistering.
    pub fn update_map_with_fds(
        &mut self,
        new: &mut StructOps,
        program_fds: &[(&str, BorrowedFd<'_>)],
    ) -> Result<(), StructOpsError> {
        let Some(link) = self.link() else {
            return Err(StructOpsError::NotALink {
                map: self.map_name().to_owned(),
            });
        };
        if !new.uses_link() {
            return Err(StructOpsError::NotALink {
                map: new.name().to_owned(),
            });
        }
        new.write_value(program_fds)?;
        link_update_map(link.fd(), new.fd()?, None, 0).map_err(|source| {
            StructOpsError::Update {
                map: new.name().to_owned(),
                source,
            }
        })?;
        self.set_map_name(new.name());
        Ok(())
    }
}
