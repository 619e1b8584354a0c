//! Reading the struct_ops variables of a `.struct_ops` section into maps.

use bpf_sys::generated::bpf_map_type;

use super::struct_ops::BPF_F_LINK;
use super::{Map, MapDef, MapKind, ParseError, StructOps, StructOpsMember, Symbol, SymbolKind};
use crate::btf::{Btf, BtfKind, Composite, TypeKind};

fn error(section: &str, map: &str, reason: impl Into<String>) -> ParseError {
    ParseError::Map {
        map: map.to_owned(),
        section: section.to_owned(),
        reason: reason.into(),
    }
}

/// The section's struct_ops variables by name, with the BTF type each is declared with.
fn section_variables<'b>(btf: &'b Btf, section_name: &str) -> Vec<(&'b str, u32)> {
    let datasec = btf
        .find_by_name_kind(section_name, BtfKind::Datasec)
        .and_then(|id| btf.type_by_id(id).ok());
    match datasec.map(|t| t.kind) {
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
    }
}

/// Where one struct_ops variable lives: its section, for errors, and its symbol.
struct Variable<'a> {
    section_name: &'a str,
    symbol: &'a Symbol,
}

impl Variable<'_> {
    fn error(&self, reason: impl Into<String>) -> ParseError {
        error(self.section_name, &self.symbol.name, reason)
    }

    /// The function pointer members the section's `relocations` set to programs, by offset.
    fn program_members(
        &self,
        composite: &Composite<'_>,
        relocations: &[(u64, &Symbol)],
    ) -> Result<Vec<StructOpsMember>, ParseError> {
        let mut members = Vec::new();
        for (offset, target) in relocations {
            let Some(relative) = offset
                .checked_sub(self.symbol.value)
                .filter(|r| *r < self.symbol.size)
            else {
                continue;
            };
            let member = composite
                .members()
                .filter_map(Result::ok)
                .find(|m| u64::from(m.bit_offset / 8) == relative)
                .ok_or_else(|| {
                    self.error(format!(
                        "relocation at offset {relative} is not at a member"
                    ))
                })?;
            if target.kind != SymbolKind::Func {
                return Err(self.error(format!(
                    "member at offset {relative} points at `{}`, not a program",
                    target.name
                )));
            }
            members.push(StructOpsMember {
                name: member.name.to_owned(),
                offset: relative as u32,
                program: target.name.clone(),
            });
        }
        members.sort_by_key(|m| m.offset);
        Ok(members)
    }

    /// The variable's bytes in the section `data`.
    fn contents<'d>(&self, data: &'d [u8]) -> Result<&'d [u8], ParseError> {
        let start = usize::try_from(self.symbol.value).ok();
        start
            .and_then(|s| data.get(s..s.checked_add(usize::try_from(self.symbol.size).ok()?)?))
            .ok_or_else(|| self.error("variable lies outside its section"))
    }
}

/// The map of one struct_ops variable, declared with BTF type `target`.
fn struct_ops_map(
    btf: &Btf,
    variable: &Variable<'_>,
    target: u32,
    section_index: usize,
    data: &[u8],
    relocations: &[(u64, &Symbol)],
) -> Result<Map, ParseError> {
    let ty = btf
        .resolve_type(target)
        .map_err(|e| variable.error(e.to_string()))?;
    let TypeKind::Struct(composite) = ty.kind else {
        return Err(variable.error("its BTF type is not a struct"));
    };
    let contents = variable.contents(data)?;
    let members = variable.program_members(&composite, relocations)?;
    let link = variable.section_name == ".struct_ops.link";
    Ok(Map {
        name: variable.symbol.name.clone(),
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
        section_offset: variable.symbol.value,
        data: contents.to_vec(),
        variables: Vec::new(),
        initial_slots: Vec::new(),
        struct_ops: Some(StructOps {
            type_name: ty.name.to_owned(),
            type_id: ty.id,
            link,
            members,
        }),
    })
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
    let types = section_variables(btf, section_name);
    symbols
        .iter()
        .filter(|s| {
            s.section_index == Some(section_index)
                && s.kind == SymbolKind::Object
                && !s.name.is_empty()
        })
        .map(|symbol| {
            let variable = Variable {
                section_name,
                symbol,
            };
            let target = types
                .iter()
                .find(|(n, _)| *n == symbol.name)
                .map(|(_, t)| *t)
                .ok_or_else(|| variable.error("no BTF variable describes it"))?;
            struct_ops_map(btf, &variable, target, section_index, data, relocations)
        })
        .collect()
}
