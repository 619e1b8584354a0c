//! struct_ops maps (`.struct_ops`, `.struct_ops.link`): a kernel struct whose function pointer
//! members are set to programs of the object.

use bpf_sys::generated::bpf_map_type;

use super::{Map, MapDef, MapKind, Object, ParseError, Symbol, SymbolKind};
use super::{StructOpsLayout, StructOpsLayoutError};
use crate::btf::{Btf, BtfKind, TypeKind};

/// `BPF_F_LINK`: the struct_ops map is registered through a bpf_link.
pub(crate) const BPF_F_LINK: u32 = 1 << 13;

/// A function pointer member of a struct_ops map set to a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsMember {
    /// Member name in the struct (e.g. `ssthresh`).
    pub name: String,
    /// Byte offset of the member in the object's layout of the struct.
    pub offset: u32,
    pub program: String,
}

/// What the loader needs to build a struct_ops map value from the kernel's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOps {
    /// Name of the kernel struct (e.g. `tcp_congestion_ops`).
    pub type_name: String,
    /// Its id in the object's BTF.
    pub type_id: u32,
    /// Declared in `.struct_ops.link`: attach with a link rather than on map update.
    pub link: bool,
    pub members: Vec<StructOpsMember>,
}

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
    /// [`StructOps::kernel_layout`]).
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

fn error(section: &str, map: &str, reason: impl Into<String>) -> ParseError {
    ParseError::Map {
        map: map.to_owned(),
        section: section.to_owned(),
        reason: reason.into(),
    }
}

pub(crate) fn is_struct_ops_section(name: &str) -> bool {
    name == ".struct_ops" || name.starts_with(".struct_ops.")
}

/// Reads the struct_ops variables of one section; `data` is the section contents and
/// `relocations` its (offset, symbol) relocations.
pub(super) fn parse_struct_ops(
    btf: &Btf,
    section_name: &str,
    section_index: usize,
    data: &[u8],
    symbols: &[Symbol],
    relocations: &[(u64, &Symbol)],
) -> Result<Vec<Map>, ParseError> {
    let datasec = btf
        .find_by_name_kind(section_name, BtfKind::Datasec)
        .and_then(|id| btf.type_by_id(id).ok());
    let vars: Vec<(&str, u32)> = match datasec.map(|t| t.kind) {
        Some(TypeKind::Datasec(d)) => d
            .vars()
            .filter_map(|v| match btf.type_by_id(v.type_id).ok()? {
                t @ crate::btf::Type {
                    kind: TypeKind::Var { target, .. },
                    ..
                } => Some((t.name, target)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut maps = Vec::new();
    for symbol in symbols.iter().filter(|s| {
        s.section_index == Some(section_index) && s.kind == SymbolKind::Object && !s.name.is_empty()
    }) {
        let name = &symbol.name;
        let target = vars
            .iter()
            .find(|(n, _)| *n == name.as_str())
            .map(|(_, t)| *t)
            .ok_or_else(|| error(section_name, name, "no BTF variable describes it"))?;
        let ty = btf
            .resolve_type(target)
            .map_err(|e| error(section_name, name, e.to_string()))?;
        let TypeKind::Struct(composite) = ty.kind else {
            return Err(error(section_name, name, "its BTF type is not a struct"));
        };
        let type_id = ty.id;
        let start = usize::try_from(symbol.value).ok();
        let contents = start
            .and_then(|s| data.get(s..s.checked_add(usize::try_from(symbol.size).ok()?)?))
            .ok_or_else(|| error(section_name, name, "variable lies outside its section"))?;
        let mut members = Vec::new();
        for (offset, target) in relocations {
            let Some(relative) = offset
                .checked_sub(symbol.value)
                .filter(|r| *r < symbol.size)
            else {
                continue;
            };
            let member = composite
                .members()
                .filter_map(Result::ok)
                .find(|m| u64::from(m.bit_offset / 8) == relative)
                .ok_or_else(|| {
                    error(
                        section_name,
                        name,
                        format!("relocation at offset {relative} is not at a member"),
                    )
                })?;
            if target.kind != SymbolKind::Func {
                return Err(error(
                    section_name,
                    name,
                    format!(
                        "member at offset {relative} points at `{}`, not a program",
                        target.name
                    ),
                ));
            }
            members.push(StructOpsMember {
                name: member.name.to_owned(),
                offset: relative as u32,
                program: target.name.clone(),
            });
        }
        members.sort_by_key(|m| m.offset);
        let link = section_name == ".struct_ops.link";
        maps.push(Map {
            name: name.clone(),
            kind: MapKind::StructOps,
            def: MapDef {
                map_type: bpf_map_type::BPF_MAP_TYPE_STRUCT_OPS,
                key_size: 4,
                value_size: contents.len() as u32,
                max_entries: 1,
                map_flags: if link { BPF_F_LINK } else { 0 },
                ..MapDef::default()
            },
            section_index: Some(section_index),
            section_offset: symbol.value,
            data: contents.to_vec(),
            variables: Vec::new(),
            initial_slots: Vec::new(),
            struct_ops: Some(StructOps {
                type_name: ty.name.to_owned(),
                type_id,
                link,
                members,
            }),
        });
    }
    Ok(maps)
}
