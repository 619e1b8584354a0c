//! Typing externs from BTF (`.kconfig` / `.ksyms` DATASECs, extern FUNCs) and laying out the
//! synthesized `.kconfig` map.

use super::maps::{self, MapKind};
use super::{Extern, ExternKind, KconfigType, Map, ParseError, Variable};
use crate::btf::{Btf, BtfKind, TypeKind};

/// Bound on the synthesized `.kconfig` map, so hostile BTF cannot exhaust memory.
const MAX_KCONFIG_SIZE: u32 = 1 << 16;

/// `BTF_INT_SIGNED` / `BTF_INT_CHAR` / `BTF_INT_BOOL` encodings.
const INT_SIGNED: u8 = 1;
const INT_CHAR: u8 = 2;
const INT_BOOL: u8 = 4;

fn kconfig_type(btf: &Btf, name: &str, type_id: u32) -> Result<KconfigType, ParseError> {
    let unsupported = |why: String| ParseError::Extern {
        name: name.to_owned(),
        reason: format!("unsupported __kconfig type: {why}"),
    };
    let ty = btf
        .resolve_type(type_id)
        .map_err(|e| unsupported(e.to_string()))?;
    match ty.kind {
        TypeKind::Int(int) => Ok(if int.encoding & INT_BOOL != 0 {
            KconfigType::Bool
        } else if int.encoding & INT_CHAR != 0 && int.size == 1 {
            KconfigType::Char
        } else {
            KconfigType::Int {
                size: int.size,
                signed: int.encoding & INT_SIGNED != 0,
            }
        }),
        TypeKind::Enum(_) if ty.name == "libbpf_tristate" => Ok(KconfigType::Tristate),
        TypeKind::Enum(e) | TypeKind::Enum64(e) => Ok(KconfigType::Int {
            size: e.size,
            signed: e.signed,
        }),
        TypeKind::Array(a) if btf.type_size(a.elem).ok() == Some(1) => {
            Ok(KconfigType::CharArray { len: a.nelems })
        }
        other => Err(unsupported(format!("{:?}", other.kind()))),
    }
}

/// The variables of the DATASEC named `name`, as (variable id, variable name, target type).
fn datasec_entries<'b>(btf: &'b Btf, name: &str) -> Vec<(u32, &'b str, TypeKind<'b>)> {
    let Some(TypeKind::Datasec(datasec)) = btf
        .find_by_name_kind(name, BtfKind::Datasec)
        .and_then(|id| btf.type_by_id(id).ok())
        .map(|t| t.kind)
    else {
        return Vec::new();
    };
    datasec
        .vars()
        .filter_map(|v| {
            btf.type_by_id(v.type_id)
                .ok()
                .map(|t| (v.type_id, t.name, t.kind))
        })
        .collect()
}

/// Gives each extern its kind from BTF and returns the `.kconfig` map if any extern needs it.
pub(super) fn type_externs(btf: &Btf, externs: &mut [Extern]) -> Result<Option<Map>, ParseError> {
    let mut kconfig_vars = Vec::new();
    for (_, name, kind) in datasec_entries(btf, ".kconfig") {
        if let TypeKind::Var { target, .. } = kind {
            kconfig_vars.push((name.to_owned(), kconfig_type(btf, name, target)?));
        }
    }
    let mut ksyms = Vec::new();
    for (id, name, kind) in datasec_entries(btf, ".ksyms") {
        let kind = match kind {
            TypeKind::Func { .. } => ExternKind::Kfunc { type_id: id },
            TypeKind::Var { target, .. } if btf.resolve(target).ok() == Some(0) => {
                ExternKind::TypelessKsym
            }
            TypeKind::Var { target, .. } => ExternKind::TypedKsym { type_id: target },
            _ => continue,
        };
        ksyms.push((name.to_owned(), kind));
    }
    let mut offset = 0u32;
    let mut variables = Vec::new();
    for ext in externs.iter_mut() {
        if let Some((_, ty)) = kconfig_vars.iter().find(|(n, _)| *n == ext.name) {
            let align = match ty.size() {
                s @ (1 | 2 | 4 | 8) => s,
                _ => 1,
            };
            offset = offset.next_multiple_of(align);
            ext.kind = ExternKind::Kconfig { ty: *ty, offset };
            variables.push(Variable {
                name: ext.name.clone(),
                offset,
                size: ty.size(),
            });
            offset = offset.saturating_add(ty.size());
        } else if let Some((_, kind)) = ksyms.iter().find(|(n, _)| *n == ext.name) {
            ext.kind = kind.clone();
        } else if let Some(id) = btf.find_by_name_kind(&ext.name, BtfKind::Func) {
            ext.kind = ExternKind::Kfunc { type_id: id };
        }
    }
    if variables.is_empty() {
        return Ok(None);
    }
    if offset > MAX_KCONFIG_SIZE {
        return Err(ParseError::Extern {
            name: variables.last().map(|v| v.name.clone()).unwrap_or_default(),
            reason: format!("kconfig values need {offset} bytes, more than {MAX_KCONFIG_SIZE}"),
        });
    }
    let mut map = maps::data_map(
        ".kconfig",
        MapKind::Kconfig,
        None,
        vec![0; offset.next_multiple_of(8) as usize],
    );
    map.variables = variables;
    Ok(Some(map))
}
