//! BTF-defined maps (`.maps`): the `__uint`/`__type`/`__array` members of each map variable,
//! inner map templates and statically initialised `.values` slots.

use super::btf_view::{BtfView, KIND_ARRAY, KIND_PTR, KIND_STRUCT, KIND_VAR};
use super::{Map, MapDef, MapKind, MapSlot, ParseError, Pinning, SlotTarget, Symbol, SymbolKind};

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

/// `int (*name)[N]` → N.
fn uint_member(btf: &BtfView, map: &str, member: &str, type_id: u32) -> Result<u32, ParseError> {
    let ptr = btf
        .resolve(type_id)
        .and_then(|id| btf.get(id))
        .filter(|t| t.kind == KIND_PTR);
    let array = ptr
        .and_then(|p| btf.resolve(p.size_or_type))
        .and_then(|id| btf.get(id))
        .filter(|t| t.kind == KIND_ARRAY);
    array.map(|a| a.nelems).ok_or_else(|| {
        error(
            map,
            format!("member `{member}` is not declared with __uint (pointer to array)"),
        )
    })
}

/// `T *name` → (T's id, sizeof(T)).
fn type_member(
    btf: &BtfView,
    map: &str,
    member: &str,
    type_id: u32,
) -> Result<(u32, u32), ParseError> {
    let pointee = btf
        .resolve(type_id)
        .and_then(|id| btf.get(id))
        .filter(|t| t.kind == KIND_PTR)
        .map(|p| p.size_or_type)
        .ok_or_else(|| {
            error(
                map,
                format!("member `{member}` is not declared with __type (pointer)"),
            )
        })?;
    let size = btf
        .size_of(pointee)
        .ok_or_else(|| error(map, format!("member `{member}` has a type of unknown size")))?;
    Ok((pointee, size))
}

fn parse_definition(
    btf: &BtfView,
    map: &str,
    struct_id: u32,
    depth: usize,
) -> Result<Definition, ParseError> {
    let ty = btf
        .get(struct_id)
        .filter(|t| t.kind == KIND_STRUCT)
        .ok_or_else(|| error(map, format!("BTF type {struct_id} is not a struct")))?;
    let mut def = MapDef::default();
    let mut values_offset = None;
    for member in &ty.entries {
        let name = btf.string(member.name_off).unwrap_or_default();
        let uint = || uint_member(btf, map, name, member.type_id);
        match name {
            "type" => def.map_type = uint()?,
            "max_entries" => def.max_entries = uint()?,
            "map_flags" => def.map_flags = uint()?,
            "numa_node" => def.numa_node = Some(uint()?),
            "map_extra" => def.map_extra = u64::from(uint()?),
            "pinning" => def.pinning = Pinning::from_raw(uint()?),
            "key_size" => def.key_size = uint()?,
            "value_size" => def.value_size = uint()?,
            "key" => {
                let (id, size) = type_member(btf, map, name, member.type_id)?;
                def.key_type_id = Some(id);
                def.key_size = size;
            }
            "value" => {
                let (id, size) = type_member(btf, map, name, member.type_id)?;
                def.value_type_id = Some(id);
                def.value_size = size;
            }
            "values" => {
                values_offset = Some(member.offset / 8);
                let array = btf
                    .resolve(member.type_id)
                    .and_then(|id| btf.get(id))
                    .filter(|t| t.kind == KIND_ARRAY)
                    .ok_or_else(|| error(map, "member `values` is not declared with __array"))?;
                let element = btf
                    .resolve(array.extra)
                    .and_then(|id| btf.get(id))
                    .filter(|t| t.kind == KIND_PTR);
                let pointee = element
                    .and_then(|p| btf.resolve(p.size_or_type))
                    .ok_or_else(|| error(map, "`values` elements are not pointers"))?;
                // Slots hold fds: 4 bytes, whatever the declared pointer type.
                def.value_size = 4;
                if btf.get(pointee).is_some_and(|t| t.kind == KIND_STRUCT) {
                    if depth > 0 {
                        return Err(error(map, "inner map templates cannot nest"));
                    }
                    let inner = parse_definition(btf, map, pointee, depth + 1)?;
                    def.inner = Some(Box::new(inner.def));
                }
            }
            other => log::debug!("map `{map}`: ignoring unknown member `{other}`"),
        }
    }
    Ok(Definition { def, values_offset })
}

/// Reads every map variable of `.maps` (section `section_index`) with its `.values` slots.
pub(super) fn parse_btf_maps(
    btf: &BtfView,
    section_index: usize,
    section_size: u64,
    symbols: &[Symbol],
    relocations: &[(u64, &Symbol)],
) -> Result<Vec<Map>, ParseError> {
    let Some((_, datasec)) = btf.datasec(".maps") else {
        return if section_size == 0 {
            Ok(Vec::new())
        } else {
            Err(error(".maps", "the object's BTF has no `.maps` DATASEC"))
        };
    };
    let mut maps = Vec::with_capacity(datasec.entries.len());
    for var in &datasec.entries {
        let var_type = btf
            .get(var.type_id)
            .filter(|t| t.kind == KIND_VAR)
            .ok_or_else(|| {
                error(
                    ".maps",
                    format!("DATASEC entry {} is not a variable", var.type_id),
                )
            })?;
        let name = btf.string(var_type.name_off).unwrap_or_default().to_owned();
        let symbol = symbols
            .iter()
            .find(|s| {
                s.section_index == Some(section_index)
                    && s.name == name
                    && s.kind != SymbolKind::Section
            })
            .ok_or_else(|| error(&name, "no ELF symbol for this map"))?;
        let struct_id = btf
            .resolve(var_type.size_or_type)
            .ok_or_else(|| error(&name, "unresolvable BTF type"))?;
        let Definition { def, values_offset } = parse_definition(btf, &name, struct_id, 0)?;
        // The symbol covers the static `values` initialiser, which BTF's flexible array does not.
        let map_size = btf
            .size_of(struct_id)
            .unwrap_or(0)
            .max(u32::try_from(symbol.size).unwrap_or(u32::MAX));
        let mut initial_slots = Vec::new();
        for (offset, target) in relocations {
            let Some(relative) = offset
                .checked_sub(symbol.value)
                .filter(|r| *r < u64::from(map_size))
            else {
                continue;
            };
            let values_offset = values_offset.ok_or_else(|| {
                error(
                    &name,
                    format!("relocation at offset {relative} outside `values`"),
                )
            })?;
            let index = relative
                .checked_sub(u64::from(values_offset))
                .map(|r| r / 8)
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| {
                    error(
                        &name,
                        format!("relocation at offset {relative} before `values`"),
                    )
                })?;
            let target = match target.kind {
                SymbolKind::Func => SlotTarget::Program(target.name.clone()),
                _ if target.section_index == Some(section_index) => {
                    SlotTarget::Map(target.name.clone())
                }
                _ => {
                    return Err(error(
                        &name,
                        format!(
                            "`values[{index}]` refers to `{}`, not a map or program",
                            target.name
                        ),
                    ));
                }
            };
            initial_slots.push(MapSlot { index, target });
        }
        initial_slots.sort_by_key(|s| s.index);
        maps.push(Map {
            name,
            kind: MapKind::Btf,
            def,
            section_index: Some(section_index),
            section_offset: symbol.value,
            data: Vec::new(),
            variables: Vec::new(),
            initial_slots,
            struct_ops: None,
        });
    }
    Ok(maps)
}
