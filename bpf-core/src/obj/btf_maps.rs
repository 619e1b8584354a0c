//! BTF-defined maps (`.maps`): the `__uint`/`__type`/`__array` members of each map variable,
//! inner map templates and statically initialised `.values` slots.

use super::{Map, MapDef, MapKind, MapSlot, ParseError, Pinning, SlotTarget, Symbol, SymbolKind};
use crate::btf::{Btf, BtfKind, DatasecVar, TypeKind};

/// A parsed map definition and where its `values` array starts within the variable.
struct Definition {
    def: MapDef,
    values_offset: Option<u32>,
}

fn error(map: &str, reason: impl Into<String>) -> ParseError {
    ParseError::Map {
        map: map.to_owned(),
        section: ".maps".into(),
        reason: reason.into(),
    }
}

/// The type `id` points at, after modifiers, if `id` is a pointer.
fn pointee(btf: &Btf, id: u32) -> Option<u32> {
    match btf.resolve_type(id).ok()?.kind {
        TypeKind::Ptr { target } => Some(target),
        _ => None,
    }
}

/// `int (*name)[N]` → N.
fn uint_member(btf: &Btf, map: &str, member: &str, type_id: u32) -> Result<u32, ParseError> {
    let array = pointee(btf, type_id).and_then(|t| btf.resolve_type(t).ok());
    match array.map(|a| a.kind) {
        Some(TypeKind::Array(a)) => Ok(a.nelems),
        _ => Err(error(
            map,
            format!("member `{member}` is not declared with __uint (pointer to array)"),
        )),
    }
}

/// `T *name` → (T's id, sizeof(T)).
fn type_member(btf: &Btf, map: &str, member: &str, type_id: u32) -> Result<(u32, u32), ParseError> {
    let target = pointee(btf, type_id).ok_or_else(|| {
        error(
            map,
            format!("member `{member}` is not declared with __type (pointer)"),
        )
    })?;
    let size = btf.type_size(target).map_err(|e| {
        error(
            map,
            format!("member `{member}` has a type of unknown size: {e}"),
        )
    })?;
    Ok((target, size))
}

/// `__ulong(name, N)` (an enum with the single value N, libbpf 1.3+) or `__uint(name, N)` → N.
fn ulong_member(btf: &Btf, map: &str, member: &str, type_id: u32) -> Result<u64, ParseError> {
    let resolved = btf
        .resolve_type(type_id)
        .map_err(|e| error(map, e.to_string()))?;
    match resolved.kind {
        TypeKind::Enum(e) | TypeKind::Enum64(e) => match e.len() {
            1 => Ok(e.value(0).map_err(|e| error(map, e.to_string()))?.value),
            n => Err(error(
                map,
                format!("member `{member}` is an enum of {n} values, __ulong declares one"),
            )),
        },
        _ => uint_member(btf, map, member, type_id).map(u64::from),
    }
}

fn parse_definition(
    btf: &Btf,
    map: &str,
    struct_id: u32,
    depth: usize,
) -> Result<Definition, ParseError> {
    let TypeKind::Struct(composite) = btf
        .type_by_id(struct_id)
        .map_err(|e| error(map, e.to_string()))?
        .kind
    else {
        return Err(error(map, format!("BTF type {struct_id} is not a struct")));
    };
    let mut def = MapDef::default();
    let mut values_offset = None;
    for member in composite.members() {
        let member = member.map_err(|e| error(map, e.to_string()))?;
        let name = member.name;
        let uint = || uint_member(btf, map, name, member.type_id);
        match name {
            "type" => def.map_type = uint()?,
            "max_entries" => def.max_entries = uint()?,
            "map_flags" => def.map_flags = uint()?,
            "numa_node" => def.numa_node = Some(uint()?),
            "map_extra" => def.map_extra = ulong_member(btf, map, name, member.type_id)?,
            "pinning" => def.pinning = Pinning::from_raw(uint()?),
            "key_size" => def.key_size = uint()?,
            "value_size" => def.value_size = uint()?,
            "key" => {
                (def.key_type_id, def.key_size) =
                    type_member(btf, map, name, member.type_id).map(|(i, s)| (Some(i), s))?
            }
            "value" => {
                (def.value_type_id, def.value_size) =
                    type_member(btf, map, name, member.type_id).map(|(i, s)| (Some(i), s))?
            }
            "values" => {
                values_offset = Some(member.bit_offset / 8);
                let TypeKind::Array(array) = btf
                    .resolve_type(member.type_id)
                    .map_err(|e| error(map, e.to_string()))?
                    .kind
                else {
                    return Err(error(map, "member `values` is not declared with __array"));
                };
                let element = pointee(btf, array.elem)
                    .and_then(|t| btf.resolve(t).ok())
                    .ok_or_else(|| error(map, "`values` elements are not pointers"))?;
                // Slots hold fds: 4 bytes, whatever the declared pointer type.
                def.value_size = 4;
                if btf.kind(element).ok() == Some(BtfKind::Struct) {
                    if depth > 0 {
                        return Err(error(map, "inner map templates cannot nest"));
                    }
                    def.inner = Some(Box::new(
                        parse_definition(btf, map, element, depth + 1)?.def,
                    ));
                }
            }
            other => log::debug!("map `{map}`: ignoring unknown member `{other}`"),
        }
    }
    Ok(Definition { def, values_offset })
}

/// Reads every map variable of `.maps` (section `section_index`) with its `.values` slots.
pub(super) fn parse_btf_maps(
    btf: &Btf,
    section_index: usize,
    section_size: u64,
    symbols: &[Symbol],
    relocations: &[(u64, &Symbol)],
) -> Result<Vec<Map>, ParseError> {
    let datasec = btf
        .find_by_name_kind(".maps", BtfKind::Datasec)
        .and_then(|id| btf.type_by_id(id).ok());
    let Some(TypeKind::Datasec(datasec)) = datasec.map(|t| t.kind) else {
        return if section_size == 0 {
            Ok(Vec::new())
        } else {
            Err(error(".maps", "the object's BTF has no `.maps` DATASEC"))
        };
    };
    let section = MapsSection {
        btf,
        index: section_index,
        symbols,
        relocations,
    };
    datasec.vars().map(|var| section.map(&var)).collect()
}

/// `.maps` as its map variables are read: its BTF, symbols and relocations.
struct MapsSection<'a, 's> {
    btf: &'a Btf,
    index: usize,
    symbols: &'a [Symbol],
    relocations: &'a [(u64, &'s Symbol)],
}

impl MapsSection<'_, '_> {
    /// The map declared by DATASEC entry `var`.
    fn map(&self, var: &DatasecVar) -> Result<Map, ParseError> {
        let btf = self.btf;
        let var_type = btf
            .type_by_id(var.type_id)
            .map_err(|e| error(".maps", e.to_string()))?;
        let TypeKind::Var { target, .. } = var_type.kind else {
            return Err(error(
                ".maps",
                format!("DATASEC entry {} is not a variable", var.type_id),
            ));
        };
        let name = var_type.name.to_owned();
        let symbol = self
            .symbols
            .iter()
            .find(|s| {
                s.section_index == Some(self.index)
                    && s.name == name
                    && s.kind != SymbolKind::Section
            })
            .ok_or_else(|| error(&name, "no ELF symbol for this map"))?;
        let struct_id = btf
            .resolve(target)
            .map_err(|e| error(&name, e.to_string()))?;
        let Definition { def, values_offset } = parse_definition(btf, &name, struct_id, 0)?;
        // The symbol covers the static `values` initialiser, which BTF's flexible array does not.
        let map_size = u64::from(btf.type_size(struct_id).unwrap_or(0)).max(symbol.size);
        let initial_slots = self.initial_slots(&name, symbol.value, map_size, values_offset)?;
        Ok(Map {
            name,
            kind: MapKind::Btf,
            def,
            section_index: Some(self.index),
            section_offset: symbol.value,
            data: Vec::new(),
            variables: Vec::new(),
            initial_slots,
            struct_ops: None,
        })
    }

    /// The `.values` slots of map `name`, `size` bytes at `start` in the section, from the
    /// relocations inside it.
    fn initial_slots(
        &self,
        name: &str,
        start: u64,
        size: u64,
        values_offset: Option<u32>,
    ) -> Result<Vec<MapSlot>, ParseError> {
        let mut slots = Vec::new();
        for (offset, target) in self.relocations {
            let Some(relative) = offset.checked_sub(start).filter(|r| *r < size) else {
                continue;
            };
            let values_offset = values_offset.ok_or_else(|| {
                error(
                    name,
                    format!("relocation at offset {relative} outside `values`"),
                )
            })?;
            let index = relative
                .checked_sub(u64::from(values_offset))
                .map(|r| r / 8)
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| {
                    error(
                        name,
                        format!("relocation at offset {relative} before `values`"),
                    )
                })?;
            let target = self.slot_target(name, index, target)?;
            slots.push(MapSlot { index, target });
        }
        slots.sort_by_key(|s| s.index);
        Ok(slots)
    }

    /// What `values[index]` of map `name` is set to: a program, or another map of `.maps`.
    fn slot_target(
        &self,
        name: &str,
        index: u32,
        target: &Symbol,
    ) -> Result<SlotTarget, ParseError> {
        match target.kind {
            SymbolKind::Func => Ok(SlotTarget::Program(target.name.clone())),
            _ if target.section_index == Some(self.index) => {
                Ok(SlotTarget::Map(target.name.clone()))
            }
            _ => Err(error(
                name,
                format!(
                    "`values[{index}]` refers to `{}`, not a map or program",
                    target.name
                ),
            )),
        }
    }
}
