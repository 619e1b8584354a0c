//! What the loader asks of the object's struct_ops maps: a map's value in the kernel's layout,
//! and the kernel struct and member each struct_ops program implements.

use super::{Map, Object, StructOpsLayout, StructOpsLayoutError};
use crate::btf::Btf;

/// What a struct_ops program is loaded with, from the object's maps that point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StructOpsAttach {
    /// Kernel BTF id of the struct (`attach_btf_id`).
    pub type_id: u32,
    /// Index of the member the program implements (`expected_attach_type`).
    pub member_index: u32,
}

/// Why a struct_ops program cannot be loaded: no map of the object places it in a member of a
/// kernel struct, or the maps disagree on which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructOpsProgramError {
    #[error("struct_ops map `{map}`: laying it out as the kernel's struct")]
    Layout {
        map: String,
        #[source]
        source: StructOpsLayoutError,
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
}

impl Object {
    /// Lays out struct_ops map `map`'s value as `kernel`'s struct (see
    /// [`StructOps::kernel_layout`](super::StructOps::kernel_layout)).
    pub fn struct_ops_layout(
        &self,
        map: &Map,
        kernel: &Btf,
    ) -> Result<StructOpsLayout, StructOpsLayoutError> {
        let (Some(ops), Some(object_btf)) = (&map.struct_ops, &self.btf) else {
            return Err(StructOpsLayoutError::NoObjectBtf);
        };
        ops.kernel_layout(object_btf, &map.data, kernel)
    }

    /// The kernel struct and member struct_ops program `program` implements, from every map of
    /// the object pointing at it (all must agree).
    pub fn struct_ops_attach(
        &self,
        program: &str,
        kernel: &Btf,
    ) -> Result<StructOpsAttach, StructOpsProgramError> {
        let mut found: Option<(StructOpsAttach, String)> = None;
        for map in &self.maps {
            let Some(ops) = &map.struct_ops else {
                continue;
            };
            let Some(member) = ops.members.iter().find(|m| m.program == program) else {
                continue;
            };
            let layout = self.struct_ops_layout(map, kernel).map_err(|source| {
                StructOpsProgramError::Layout {
                    map: map.name.clone(),
                    source,
                }
            })?;
            let Some(slot) = layout.slot_of(program) else {
                return Err(StructOpsProgramError::MemberNotInKernel {
                    program: program.to_owned(),
                    map: map.name.clone(),
                    type_name: ops.type_name.clone(),
                    member: member.name.clone(),
                });
            };
            let attach = StructOpsAttach {
                type_id: layout.type_id,
                member_index: slot.member_index,
            };
            let use_ = format!("{}.{}", ops.type_name, slot.member);
            match &found {
                Some((first, first_use)) if *first != attach => {
                    return Err(StructOpsProgramError::ConflictingUses {
                        program: program.to_owned(),
                        first: first_use.clone(),
                        second: use_,
                    });
                }
                Some(_) => {}
                None => found = Some((attach, use_)),
            }
        }
        found
            .map(|(attach, _)| attach)
            .ok_or_else(|| StructOpsProgramError::NotInAnyMap {
                program: program.to_owned(),
            })
    }
}
