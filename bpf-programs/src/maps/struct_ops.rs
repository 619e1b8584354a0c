//! struct_ops maps (`.struct_ops`, `.struct_ops.link`): a kernel struct such as
//! `tcp_congestion_ops` or `sched_ext_ops` whose function pointers are programs of the object.
//!
//! Opening the object creates each map with the running kernel's layout of the struct
//! (members matched by name, as libbpf does); a map the kernel cannot take keeps its error
//! ([`StructOps::creation_error`]) without failing the object. Registering the map loads the
//! programs it points at and hands the struct to the kernel; unlike program attachments, the
//! registration is returned as an owned [`StructOpsLink`], which unregisters on drop.
//!
//! ```no_run
//! use bpf_programs::Bpf;
//!
//! let mut bpf = Bpf::load_file("tcp_cc.bpf.o")?;
//! // Data members may be changed first, like a libbpf skeleton's struct_ops variable.
//! bpf.struct_ops_mut("my_cc").unwrap().set_member_str("name", "my_cc_v2")?;
//! // Loads the programs the struct points at (if not loaded yet), then registers it.
//! let link = bpf.register_struct_ops("my_cc")?;
//! // … sockets may now use the congestion control …
//! drop(link); // unregistered
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use bpf_core::obj::{self, Object, StructOpsLayout, StructOpsLayoutError};
use bpf_sys::SyscallError;
use bpf_sys::generated::{bpf_attach_type, bpf_map_type};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create, link_update_map};
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::pod::{Pod, bytes_of};

use crate::programs::{FdLink, PinnedLink, Program, ProgramError};

/// `BPF_F_LINK`: the struct_ops map is registered through a bpf_link.
const BPF_F_LINK: u32 = 1 << 13;

/// Why a struct_ops map or one of its programs could not be created, loaded or registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StructOpsError {
    #[error("no struct_ops map `{map}` in the object")]
    NoSuchMap { map: String },

    #[error("struct_ops map `{map}`: the object has no BTF describing it")]
    NoObjectBtf { map: String },

    #[error("struct_ops map `{map}`: kernel BTF: {message}")]
    KernelBtf { map: String, message: String },

    #[error("struct_ops map `{map}`: laying it out as the kernel's struct")]
    Layout {
        map: String,
        #[source]
        source: StructOpsLayoutError,
    },

    #[error("struct_ops map `{map}`: creating it")]
    Create {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error("struct_ops map `{map}` could not be created when the object was opened: {reason}")]
    NotCreated { map: String, reason: String },

    #[error(
        "struct_ops map `{map}` points at program `{program}`, which is no longer in the object"
    )]
    ProgramMissing { map: String, program: String },

    #[error("struct_ops map `{map}`: loading one of its programs")]
    ProgramLoad {
        map: String,
        program: String,
        #[source]
        source: Box<ProgramError>,
    },

    #[error("struct_ops program `{program}` is used by no struct_ops map of the object")]
    NotInAnyMap { program: String },

    #[error(
        "struct_ops program `{program}` is member `{member}` of map `{map}`, which the kernel's `{type_name}` lacks"
    )]
    MemberNotInKernel {
        program: String,
        map: String,
        type_name: String,
        member: String,
    },

    #[error(
        "struct_ops program `{program}` is used as `{first}` and as `{second}`: one program serves one member of one struct type"
    )]
    ConflictingUses {
        program: String,
        first: String,
        second: String,
    },

    #[error("struct_ops map `{map}`: registering it")]
    Register {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error("struct_ops map `{map}`: creating its link")]
    Link {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error("struct_ops map `{map}`: unregistering it")]
    Unregister {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error(
        "struct_ops map `{map}`: its value was handed to the kernel already; members can no longer change"
    )]
    ValueWritten { map: String },

    #[error("struct_ops map `{map}`: member `{member}`: `{value}` does not fit (with its NUL)")]
    StringTooLong {
        map: String,
        member: String,
        value: String,
    },

    #[error("switching a struct_ops link to map `{map}`")]
    Update {
        map: String,
        #[source]
        source: SyscallError,
    },

    #[error(
        "struct_ops map `{map}` is not registered through a bpf_link (a `.struct_ops` map, or a kernel before 6.4)"
    )]
    NotALink { map: String },

    #[error("struct_ops map `{map}`: pinning its link")]
    Pin {
        map: String,
        #[source]
        source: Box<ProgramError>,
    },

    #[error("struct_ops map `{map}`: duplicating its fd")]
    DupFd {
        map: String,
        #[source]
        source: std::io::Error,
    },
}

impl StructOpsError {
    /// The errno behind the error, if a system call failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            StructOpsError::Create { source, .. }
            | StructOpsError::Register { source, .. }
            | StructOpsError::Link { source, .. }
            | StructOpsError::Unregister { source, .. }
            | StructOpsError::Update { source, .. } => source.errno(),
            StructOpsError::DupFd { source, .. } => source.raw_os_error(),
            StructOpsError::ProgramLoad { source, .. } | StructOpsError::Pin { source, .. } => {
                source.errno()
            }
            _ => None,
        }
    }
}

/// Lays out `map`'s value for the running kernel.
fn kernel_layout(object: &Object, map: &obj::Map) -> Result<StructOpsLayout, StructOpsError> {
    let name = || map.name.clone();
    let (Some(ops), Some(object_btf)) = (&map.struct_ops, &object.btf) else {
        return Err(StructOpsError::NoObjectBtf { map: name() });
    };
    let kernel = crate::object_btf::kernel_btf().map_err(|message| StructOpsError::KernelBtf {
        map: name(),
        message,
    })?;
    ops.kernel_layout(object_btf, &map.data, &kernel)
        .map_err(|source| StructOpsError::Layout {
            map: name(),
            source,
        })
}

/// What a struct_ops program is loaded with: the kernel struct's BTF id (`attach_btf_id`) and
/// the index of the member it implements (`expected_attach_type`), from the maps using it.
pub(crate) fn program_attach(object: &Object, program: &str) -> Result<(u32, u32), StructOpsError> {
    let mut found: Option<(u32, u32, String)> = None;
    for map in &object.maps {
        let Some(ops) = &map.struct_ops else {
            continue;
        };
        let Some(member) = ops.members.iter().find(|m| m.program == program) else {
            continue;
        };
        let layout = kernel_layout(object, map)?;
        let Some(slot) = layout.slot_of(program) else {
            return Err(StructOpsError::MemberNotInKernel {
                program: program.to_owned(),
                map: map.name.clone(),
                type_name: ops.type_name.clone(),
                member: member.name.clone(),
            });
        };
        let use_ = format!("{}.{}", ops.type_name, slot.member);
        match &found {
            Some((type_id, index, first))
                if (*type_id, *index) != (layout.type_id, slot.member_index) =>
            {
                return Err(StructOpsError::ConflictingUses {
                    program: program.to_owned(),
                    first: first.clone(),
                    second: use_,
                });
            }
            Some(_) => {}
            None => found = Some((layout.type_id, slot.member_index, use_)),
        }
    }
    found
        .map(|(type_id, index, _)| (type_id, index))
        .ok_or_else(|| StructOpsError::NotInAnyMap {
            program: program.to_owned(),
        })
}

/// The created kernel map and the value it will be registered with.
#[derive(Debug)]
struct Created {
    fd: MapFd,
    layout: StructOpsLayout,
    /// Link maps take their value once and can then be linked again after an unlink.
    value_written: bool,
    /// Registered through a bpf_link (`BPF_F_LINK` was accepted).
    link: bool,
}

/// A struct_ops map of an opened object. A map the running kernel cannot take (a struct it
/// does not have, a member it lacks) is still listed, with the reason; the object's other maps
/// and programs are unaffected.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let ops = bpf.struct_ops_mut("my_cc").unwrap();
/// ops.set_member_bytes("name", b"my_cc\0")?; // a data member, before registration
/// let link = bpf.register_struct_ops("my_cc")?; // unregistered when dropped
/// # drop(link);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct StructOps {
    name: String,
    type_name: String,
    link: bool,
    created: Result<Created, StructOpsError>,
}

impl StructOps {
    /// Creates the kernel map for `map` (`btf_fd`: the object's BTF, which the kernel requires).
    pub(crate) fn create(object: &Object, map: &obj::Map, btf_fd: Option<BorrowedFd<'_>>) -> Self {
        let (type_name, link) = map
            .struct_ops
            .as_ref()
            .map(|ops| (ops.type_name.clone(), ops.link))
            .unwrap_or_default();
        let created = create_map(object, map, btf_fd);
        if let Err(e) = &created {
            log::warn!("{e}; the object's other maps and programs are unaffected");
        }
        StructOps {
            name: map.name.clone(),
            type_name,
            link,
            created,
        }
    }

    /// The map's name (the variable's name in the object).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kernel struct it implements (e.g. `tcp_congestion_ops`).
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// True for `.struct_ops.link` maps: registered through a bpf_link. False for one on a
    /// kernel without struct_ops links (before Linux 6.4): it is registered by map update
    /// instead, and its [`StructOpsLink`] still unregisters on drop.
    pub fn uses_link(&self) -> bool {
        self.created.as_ref().map_or(self.link, |c| c.link)
    }

    /// Why the map could not be created, if it could not.
    pub fn creation_error(&self) -> Option<&StructOpsError> {
        self.created.as_ref().err()
    }

    /// The map fd, once created.
    pub fn fd(&self) -> Result<BorrowedFd<'_>, StructOpsError> {
        Ok(self.created()?.fd.fd())
    }

    /// The value as laid out for the kernel (program slots still empty), once created.
    pub fn layout(&self) -> Result<&StructOpsLayout, StructOpsError> {
        Ok(&self.created()?.layout)
    }

    /// Names of the programs the registered struct will point at.
    pub fn program_names(&self) -> Vec<&str> {
        self.created
            .as_ref()
            .map(|c| {
                c.layout
                    .programs
                    .iter()
                    .map(|s| s.program.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The bytes of data member `member` (not a function pointer) as they will be registered.
    pub fn member(&self, member: &str) -> Result<&[u8], StructOpsError> {
        let created = self.created()?;
        created
            .layout
            .member(member)
            .map_err(|source| StructOpsError::Layout {
                map: self.name.clone(),
                source,
            })
    }

    /// Sets data member `member` before registration, like editing a libbpf skeleton's
    /// struct_ops variable (e.g. a scheduler's `flags` or `timeout_ms`).
    pub fn set_member<T: Pod>(&mut self, member: &str, value: &T) -> Result<(), StructOpsError> {
        self.set_member_bytes(member, bytes_of(value))
    }

    /// Sets data member `member` from bytes of exactly its size.
    pub fn set_member_bytes(&mut self, member: &str, bytes: &[u8]) -> Result<(), StructOpsError> {
        let name = self.name.clone();
        let created = self
            .created
            .as_mut()
            .map_err(|e| StructOpsError::NotCreated {
                map: name.clone(),
                reason: crate::ErrorChain(e).to_string(),
            })?;
        if created.value_written {
            return Err(StructOpsError::ValueWritten { map: name });
        }
        created
            .layout
            .set_member(member, bytes)
            .map_err(|source| StructOpsError::Layout { map: name, source })
    }

    /// Sets a `char[N]` member (e.g. `name`) to `value`, NUL-padded.
    pub fn set_member_str(&mut self, member: &str, value: &str) -> Result<(), StructOpsError> {
        let size = self.member(member)?.len();
        if value.len() >= size || value.as_bytes().contains(&0) {
            return Err(StructOpsError::StringTooLong {
                map: self.name.clone(),
                member: member.to_owned(),
                value: value.to_owned(),
            });
        }
        let mut bytes = vec![0u8; size];
        bytes[..value.len()].copy_from_slice(value.as_bytes());
        self.set_member_bytes(member, &bytes)
    }

    fn created(&self) -> Result<&Created, StructOpsError> {
        self.created
            .as_ref()
            .map_err(|e| StructOpsError::NotCreated {
                map: self.name.clone(),
                reason: crate::ErrorChain(e).to_string(),
            })
    }

    /// Registers the struct with the kernel, its function pointers set to the loaded programs
    /// `program_fds` gives by name. A `.struct_ops` map is registered by the map update; a
    /// `.struct_ops.link` map by a bpf_link. Either way the returned link unregisters on drop
    /// (a `.struct_ops` map cannot be registered again afterwards; a link map can).
    pub fn register_with_fds(
        &mut self,
        program_fds: &[(&str, BorrowedFd<'_>)],
    ) -> Result<StructOpsLink, StructOpsError> {
        self.write_value(program_fds)?;
        let name = self.name.clone();
        let created = self.created()?;
        let registration = if created.link {
            let fd = link_create(&LinkCreateAttr {
                prog_fd: created.fd.fd(),
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
            let dup = dup_map_fd(&name, created.fd.fd())?;
            Registration::MapElement(Some(dup))
        };
        Ok(StructOpsLink {
            map: name,
            registration,
        })
    }

    /// Hands the value to the kernel: for a `.struct_ops` map this registers it; a link map
    /// only becomes ready to be linked (once; later calls keep the first value).
    fn write_value(
        &mut self,
        program_fds: &[(&str, BorrowedFd<'_>)],
    ) -> Result<(), StructOpsError> {
        let name = self.name.clone();
        let created = self
            .created
            .as_mut()
            .map_err(|e| StructOpsError::NotCreated {
                map: name.clone(),
                reason: crate::ErrorChain(e).to_string(),
            })?;
        if let Some(slot) = created
            .layout
            .programs
            .iter()
            .find(|slot| !program_fds.iter().any(|(p, _)| *p == slot.program))
        {
            return Err(StructOpsError::ProgramMissing {
                map: name,
                program: slot.program.clone(),
            });
        }
        if created.value_written {
            return Ok(());
        }
        let value = created.layout.value_with_fds(|program| {
            program_fds
                .iter()
                .find(|(p, _)| *p == program)
                .map(|(_, fd)| fd.as_raw_fd())
        });
        created
            .fd
            .update(&0u32.to_ne_bytes(), &value, 0)
            .map_err(|source| StructOpsError::Register { map: name, source })?;
        created.value_written = created.link;
        Ok(())
    }

    /// Loads the programs the struct points at that are not loaded yet and returns their fds.
    fn load_programs<'p>(
        &self,
        programs: &'p mut BTreeMap<String, Program>,
    ) -> Result<Vec<(&'p str, BorrowedFd<'p>)>, StructOpsError> {
        self.created()?;
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
                        map: self.name.clone(),
                        program: program_name.clone(),
                    })?;
            if program.fd().is_err() {
                program
                    .load()
                    .map_err(|source| StructOpsError::ProgramLoad {
                        map: self.name.clone(),
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

fn dup_map_fd(map: &str, fd: BorrowedFd<'_>) -> Result<MapFd, StructOpsError> {
    let owned: OwnedFd = fd
        .try_clone_to_owned()
        .map_err(|source| StructOpsError::DupFd {
            map: map.to_owned(),
            source,
        })?;
    MapFd::from_fd(owned).map_err(|source| StructOpsError::Register {
        map: map.to_owned(),
        source,
    })
}

fn create_map(
    object: &Object,
    map: &obj::Map,
    btf_fd: Option<BorrowedFd<'_>>,
) -> Result<Created, StructOpsError> {
    let layout = kernel_layout(object, map)?;
    if btf_fd.is_none() {
        return Err(StructOpsError::NoObjectBtf {
            map: map.name.clone(),
        });
    }
    let mut attr = MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_STRUCT_OPS,
        key_size: 4,
        value_size: layout.value.len() as u32,
        max_entries: 1,
        map_flags: map.def.map_flags,
        name: &map.name,
        btf_fd,
        btf_vmlinux_value_type_id: layout.value_type_id,
        ..Default::default()
    };
    let create_error = |source| StructOpsError::Create {
        map: map.name.clone(),
        source,
    };
    let link = attr.map_flags & BPF_F_LINK != 0;
    let fd = match MapFd::create(&attr) {
        Ok(fd) => fd,
        // Kernels before 6.4 have no struct_ops links; the map update registers it there.
        Err(e) if link && e.errno() == Some(libc::EINVAL) => {
            attr.map_flags &= !BPF_F_LINK;
            let fd = MapFd::create(&attr).map_err(|_| create_error(e))?;
            log::info!(
                "struct_ops map `{}`: the kernel has no struct_ops links; it is registered by map update",
                map.name
            );
            return Ok(Created {
                fd,
                layout,
                value_written: false,
                link: false,
            });
        }
        Err(e) => return Err(create_error(e)),
    };
    Ok(Created {
        fd,
        layout,
        value_written: false,
        link,
    })
}

/// How a registered struct is taken back.
#[derive(Debug)]
enum Registration {
    /// `.struct_ops.link`: the link; detaching it unregisters.
    Link(FdLink),
    /// `.struct_ops`: deleting the map's element unregisters.
    MapElement(Option<MapFd>),
}

/// A registered struct_ops map; dropping it unregisters the struct.
#[derive(Debug)]
pub struct StructOpsLink {
    map: String,
    registration: Registration,
}

impl StructOpsLink {
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

    /// Switches this link registration over to struct_ops map `new` (same struct type, a
    /// `.struct_ops.link` map; Linux 6.4+), its function pointers set to `program_fds`: the
    /// kernel swaps the struct in place, e.g. for a congestion control without unregistering.
    pub fn update_map_with_fds(
        &mut self,
        new: &mut StructOps,
        program_fds: &[(&str, BorrowedFd<'_>)],
    ) -> Result<(), StructOpsError> {
        let Registration::Link(link) = &self.registration else {
            return Err(StructOpsError::NotALink {
                map: self.map.clone(),
            });
        };
        if !new.uses_link() {
            return Err(StructOpsError::NotALink {
                map: new.name.clone(),
            });
        }
        new.write_value(program_fds)?;
        link_update_map(link.fd(), new.fd()?, None, 0).map_err(|source| {
            StructOpsError::Update {
                map: new.name.clone(),
                source,
            }
        })?;
        self.map = new.name.clone();
        Ok(())
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
