//! Typing externs from BTF (`.kconfig` / `.ksyms` DATASECs, extern FUNCs) and laying out the
//! synthesized `.kconfig` map.

use super::btf_view::{
    BtfView, INT_BOOL, INT_CHAR, INT_SIGNED, KIND_ARRAY, KIND_ENUM, KIND_FUNC, KIND_INT, KIND_VAR,
};
use super::maps::{self, MapKind};
use super::{Extern, ExternKind, KconfigType, Map, ParseError, Variable};

/// Bound on the synthesized `.kconfig` map, so hostile BTF cannot exhaust memory.
const MAX_KCONFIG_SIZE: u32 = 1 << 16;

fn kconfig_type(btf: &BtfView, name: &str, type_id: u32) -> Result<KconfigType, ParseError> {
    let unsupported = || ParseError::Extern {
        name: name.to_owned(),
        reason: "unsupported __kconfig type".into(),
    };
    let id = btf.resolve(type_id).ok_or_else(unsupported)?;
    let ty = btf.get(id).ok_or_else(unsupported)?;
    match ty.kind {
        KIND_INT => {
            let encoding = (ty.extra >> 24) & 0xf;
            let size = ty.size_or_type;
            Ok(if encoding & INT_BOOL != 0 {
                KconfigType::Bool
            } else if encoding & INT_CHAR != 0 && size == 1 {
                KconfigType::Char
            } else {
                KconfigType::Int {
                    size,
                    signed: encoding & INT_SIGNED != 0,
                }
            })
        }
        KIND_ENUM if btf.string(ty.name_off) == Some("libbpf_tristate") => {
            Ok(KconfigType::Tristate)
        }
        KIND_ENUM => Ok(KconfigType::Int {
            size: ty.size_or_type,
            signed: false,
        }),
        KIND_ARRAY if btf.size_of(ty.extra) == Some(1) => {
            Ok(KconfigType::CharArray { len: ty.nelems })
        }
        _ => Err(unsupported()),
    }
}

/// Gives each extern its kind from BTF and returns the `.kconfig` map if any extern needs it.
pub(super) fn type_externs(
    btf: &BtfView,
    externs: &mut [Extern],
) -> Result<Option<Map>, ParseError> {
    let mut kconfig_vars = Vec::new();
    if let Some((_, datasec)) = btf.datasec(".kconfig") {
        for entry in &datasec.entries {
            let Some(var) = btf.get(entry.type_id).filter(|t| t.kind == KIND_VAR) else {
                continue;
            };
            let name = btf.string(var.name_off).unwrap_or_default();
            kconfig_vars.push((name.to_owned(), kconfig_type(btf, name, var.size_or_type)?));
        }
    }
    let mut ksyms = Vec::new();
    if let Some((_, datasec)) = btf.datasec(".ksyms") {
        for entry in &datasec.entries {
            let Some(ty) = btf.get(entry.type_id) else {
                continue;
            };
            let name = btf.string(ty.name_off).unwrap_or_default().to_owned();
            let kind = match ty.kind {
                KIND_FUNC => ExternKind::Kfunc {
                    type_id: entry.type_id,
                },
                KIND_VAR if btf.resolve(ty.size_or_type) == Some(0) => ExternKind::TypelessKsym,
                KIND_VAR => ExternKind::TypedKsym {
                    type_id: ty.size_or_type,
                },
                _ => continue,
            };
            ksyms.push((name, kind));
        }
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
        } else if let Some(id) = (1..btf.len() as u32).find(|&id| {
            btf.get(id).is_some_and(|t| t.kind == KIND_FUNC)
                && btf.name(id) == Some(ext.name.as_str())
        }) {
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
