//! Making the object's BTF loadable, independent of the kernel: DATASEC sizes and offsets from
//! the ELF layout, and the extern sections (`.kconfig`, `.ksyms`) laid out as the maps are.

use super::{ExternKind, Map, MapKind, Symbol, SymbolKind};
use crate::btf::{Btf, BtfError, BtfKind, DataSymbol, FuncLinkage, TypeKind, VarLinkage};

/// `BTF_INT_SIGNED`.
const INT_SIGNED: u8 = 1;

/// Fixes what clang leaves for the loader: data section sizes and variable offsets, and the
/// extern DATASECs the kernel would reject (size 0, extern linkage, FUNC entries).
pub(super) fn fixup(
    btf: &mut Btf,
    section_sizes: &[(String, u64)],
    symbols: &[Symbol],
    maps: &[Map],
    externs: &[super::Extern],
) -> Result<(), BtfError> {
    btf.fixup_datasecs(
        |name| {
            section_sizes
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, size)| u32::try_from(*size).ok())
        },
        |var| {
            symbols
                .iter()
                .find(|s| {
                    s.name == var
                        && s.section_index.is_some()
                        && matches!(s.kind, SymbolKind::Object | SymbolKind::NoType)
                })
                .map(|s| DataSymbol {
                    offset: s.value as u32,
                    hidden: s.hidden,
                })
        },
    )?;
    if let Some(id) = btf.find_by_name_kind(".kconfig", BtfKind::Datasec) {
        fixup_kconfig(btf, id, maps)?;
    }
    if let Some(id) = btf.find_by_name_kind(".ksyms", BtfKind::Datasec) {
        fixup_ksyms(btf, id)?;
    }
    // Hidden global functions (`__weak __hidden`, as <bpf/usdt.bpf.h>'s `bpf_usdt_arg`) are
    // marked static, as libbpf does: the verifier then checks them in their caller's context
    // (a global function is verified alone, its pointer arguments possibly NULL).
    for sym in symbols {
        if sym.hidden
            && sym.kind == SymbolKind::Func
            && sym.binding != super::Binding::Local
            && let Some(id) = btf.find_by_name_kind(&sym.name, BtfKind::Func)
            && let Ok(TypeKind::Func {
                linkage: FuncLinkage::Global,
                ..
            }) = btf.type_by_id(id).map(|t| t.kind)
        {
            btf.set_func_linkage(id, FuncLinkage::Static)?;
        }
    }
    // The kernel refuses extern linkage on FUNCs, wherever the kfunc was declared.
    for ext in externs {
        if let ExternKind::Kfunc { type_id } = ext.kind
            && btf.kind(type_id).ok() == Some(BtfKind::Func)
        {
            btf.set_func_linkage(type_id, FuncLinkage::Global)?;
            name_anonymous_params(btf, type_id)?;
        }
    }
    Ok(())
}

fn datasec_vars(btf: &Btf, id: u32) -> Result<Vec<(u32, u32)>, BtfError> {
    match btf.type_by_id(id)?.kind {
        TypeKind::Datasec(d) => Ok(d.vars().map(|v| (v.type_id, v.size)).collect()),
        other => Err(BtfError::UnexpectedKind {
            id,
            expected: "DATASEC",
            found: other.kind(),
        }),
    }
}

/// `.kconfig` variables get the offsets of the synthesized `.kconfig` map.
fn fixup_kconfig(btf: &mut Btf, id: u32, maps: &[Map]) -> Result<(), BtfError> {
    let Some(map) = maps.iter().find(|m| m.kind == MapKind::Kconfig) else {
        return Ok(());
    };
    let mut vars = Vec::new();
    for (var_id, size) in datasec_vars(btf, id)? {
        let name = btf.type_name(var_id)?.to_owned();
        let offset = map.variable(&name).map_or(0, |v| v.offset);
        btf.set_var_linkage(var_id, VarLinkage::Global)?;
        vars.push((
            var_id,
            offset,
            size.max(map.variable(&name).map_or(0, |v| v.size)),
        ));
    }
    vars.sort_by_key(|v| v.1);
    btf.set_datasec(id, map.def.value_size, &vars)
}

/// `.ksyms` entries become 4-byte `int` VARs (kfunc FUNCs get a placeholder VAR and global
/// linkage), as the kernel accepts only allocated VARs in a DATASEC.
fn fixup_ksyms(btf: &mut Btf, id: u32) -> Result<(), BtfError> {
    let entries = datasec_vars(btf, id)?;
    if entries.is_empty() {
        return Ok(());
    }
    let int = btf.add_int("int", 4, INT_SIGNED, 32);
    let mut placeholder = None;
    let mut vars = Vec::with_capacity(entries.len());
    for (offset, (entry, _)) in (0u32..).step_by(4).zip(entries) {
        let var = match btf.kind(entry)? {
            BtfKind::Func => {
                btf.set_func_linkage(entry, FuncLinkage::Global)?;
                name_anonymous_params(btf, entry)?;
                *placeholder.get_or_insert_with(|| add_var(btf, "dummy_ksym", int))
            }
            _ => {
                btf.set_size_or_type(entry, int)?;
                btf.set_var_linkage(entry, VarLinkage::Global)?;
                entry
            }
        };
        vars.push((var, offset, 4));
    }
    let size = 4 * vars.len() as u32;
    btf.set_datasec(id, size, &vars)
}

/// Names the nameless parameters of FUNC `func`'s prototype `dummy_ksym`, as libbpf does.
/// clang emits no parameter names for extern (kfunc) declarations, and the kernel rejects a
/// FUNC whose FUNC_PROTO has a typed but nameless parameter ("Invalid arg#1"), and with it the
/// whole object BTF (maps then lose their BTF, programs their func_info).
fn name_anonymous_params(btf: &mut Btf, func: u32) -> Result<(), BtfError> {
    let TypeKind::Func { proto, .. } = btf.type_by_id(func)?.kind else {
        return Ok(());
    };
    let unnamed = match btf.type_by_id(proto)?.kind {
        TypeKind::FuncProto(p) => {
            let mut unnamed = Vec::new();
            for (index, param) in p.params().enumerate() {
                let param = param?;
                // type 0 is the `...` of a variadic prototype: it stays nameless.
                if param.name.is_empty() && param.type_id != 0 {
                    unnamed.push(index);
                }
            }
            unnamed
        }
        _ => return Ok(()),
    };
    if unnamed.is_empty() {
        return Ok(());
    }
    let name_off = btf.add_string("dummy_ksym");
    for index in unnamed {
        btf.set_extra_u32(proto, index * 2, name_off)?;
    }
    Ok(())
}

fn add_var(btf: &mut Btf, name: &str, type_id: u32) -> u32 {
    let name_off = btf.add_string(name);
    let mut record = Vec::with_capacity(16);
    for word in [
        name_off,
        BtfKind::Var.raw() << 24,
        type_id,
        VarLinkage::Global.raw(),
    ] {
        record.extend_from_slice(&word.to_le_bytes());
    }
    btf.add_raw_type(&record)
}
