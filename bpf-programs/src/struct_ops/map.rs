//! [`StructOps`]: one struct_ops map of an opened object, created through [`MapData`], with the
//! value it will be registered with.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, BorrowedFd};

use bpf_core::obj::{self, Object, StructOpsLayout};
use bpf_sys::pod::{Pod, bytes_of};

use super::error::StructOpsError;
use crate::maps::MapData;

/// `BPF_F_LINK`: the struct_ops map is registered through a bpf_link.
const BPF_F_LINK: u32 = 1 << 13;

/// The created kernel map and the value it will be registered with.
#[derive(Debug)]
struct Created {
    map: MapData,
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
    /// Creates the object's struct_ops maps (`btf_fd`: the object's BTF, which the kernel
    /// requires); one the kernel cannot take keeps its error and fails only its own
    /// registration and its programs' loads.
    pub(crate) fn create_all(
        object: &Object,
        btf_fd: Option<BorrowedFd<'_>>,
    ) -> BTreeMap<String, StructOps> {
        object
            .maps
            .iter()
            .filter(|map| map.kind == obj::MapKind::StructOps)
            .map(|map| (map.name.clone(), StructOps::create(object, map, btf_fd)))
            .collect()
    }

    fn create(object: &Object, map: &obj::Map, btf_fd: Option<BorrowedFd<'_>>) -> Self {
        let (type_name, link) = map
            .struct_ops
            .as_ref()
            .map(|ops| (ops.type_name.clone(), ops.link))
            .unwrap_or_default();
        let created = create_map(object, map, btf_fd);
        if let Err(e) = &created {
            log::warn!(
                "{}; the object's other maps and programs are unaffected",
                crate::ErrorChain(e)
            );
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
    /// instead, and its [`StructOpsLink`](super::StructOpsLink) still unregisters on drop.
    pub fn uses_link(&self) -> bool {
        self.created.as_ref().map_or(self.link, |c| c.link)
    }

    /// Why the map could not be created, if it could not.
    pub fn creation_error(&self) -> Option<&StructOpsError> {
        self.created.as_ref().err()
    }

    /// The kernel map, once created.
    pub fn map_data(&self) -> Result<&MapData, StructOpsError> {
        Ok(&self.created()?.map)
    }

    /// The map fd, once created.
    pub fn fd(&self) -> Result<BorrowedFd<'_>, StructOpsError> {
        Ok(self.created()?.map.fd())
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
        let created = self.created_mut()?;
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

    fn not_created(&self, error: &StructOpsError) -> StructOpsError {
        StructOpsError::NotCreated {
            map: self.name.clone(),
            reason: crate::ErrorChain(error).to_string(),
        }
    }

    fn created(&self) -> Result<&Created, StructOpsError> {
        self.created.as_ref().map_err(|e| self.not_created(e))
    }

    fn created_mut(&mut self) -> Result<&mut Created, StructOpsError> {
        match &mut self.created {
            Ok(created) => Ok(created),
            Err(e) => Err(StructOpsError::NotCreated {
                map: self.name.clone(),
                reason: crate::ErrorChain(&*e).to_string(),
            }),
        }
    }

    /// Hands the value to the kernel: for a `.struct_ops` map this registers it; a link map
    /// only becomes ready to be linked (once; later calls keep the first value).
    pub(super) fn write_value(
        &mut self,
        program_fds: &[(&str, BorrowedFd<'_>)],
    ) -> Result<(), StructOpsError> {
        let name = self.name.clone();
        let created = self.created_mut()?;
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
            .map
            .map_fd()
            .update(&0u32.to_ne_bytes(), &value, 0)
            .map_err(|source| StructOpsError::Register { map: name, source })?;
        created.value_written = created.link;
        Ok(())
    }
}

/// Lays the map's value out as the running kernel's struct and creates the map for it.
fn create_map(
    object: &Object,
    map: &obj::Map,
    btf_fd: Option<BorrowedFd<'_>>,
) -> Result<Created, StructOpsError> {
    let name = || map.name.clone();
    let kernel = crate::kernel::btf::vmlinux().map_err(|source| StructOpsError::KernelBtf {
        map: name(),
        source,
    })?;
    let layout =
        object
            .struct_ops_layout(map, &kernel)
            .map_err(|source| StructOpsError::Layout {
                map: name(),
                source,
            })?;
    if btf_fd.is_none() {
        return Err(StructOpsError::NoObjectBtf { map: name() });
    }
    let mut kernel_map = map.clone();
    kernel_map.def.value_size = layout.value.len() as u32;
    kernel_map.def.btf_vmlinux_value_type_id = Some(layout.value_type_id);
    let link = kernel_map.def.map_flags & BPF_F_LINK != 0;
    let created = |map| Created {
        map,
        layout,
        value_written: false,
        link,
    };
    match MapData::create(&kernel_map, &map.name, btf_fd) {
        Ok(data) => Ok(created(data)),
        // Kernels before 6.4 have no struct_ops links; the map update registers it there.
        Err(e) if link && e.errno() == Some(libc::EINVAL) => {
            kernel_map.def.map_flags &= !BPF_F_LINK;
            let data = MapData::create(&kernel_map, &map.name, btf_fd).map_err(|_| {
                StructOpsError::Create {
                    map: name(),
                    source: e,
                }
            })?;
            log::info!(
                "struct_ops map `{}`: the kernel has no struct_ops links; it is registered by map update",
                map.name
            );
            Ok(Created {
                link: false,
                ..created(data)
            })
        }
        Err(source) => Err(StructOpsError::Create {
            map: name(),
            source,
        }),
    }
}
