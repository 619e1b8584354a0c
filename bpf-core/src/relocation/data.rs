//! Patching references to maps, global data and externs.

use bpf_sys::generated::{
    BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
    BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, bpf_insn,
};

use super::site::Site;
use super::{Bindings, KsymValue, MapReference, RelocationError, RelocationErrorKind as Kind};
use crate::obj::insn::{CALL, LD_IMM64};
use crate::obj::{ArenaData, InsnRelocation, Map, MapKind, Object, SymbolKind};

/// Helper id that marks a call to an absent weak kfunc; the verifier rejects it only if reachable.
const POISONED_KFUNC_HELPER: i32 = 2_002_000_000;

/// Writes a 64-bit immediate load of a map reference at `insns[at]` / `insns[at + 1]`.
fn load_map(insns: &mut [bpf_insn], at: usize, reference: MapReference, value_offset: Option<u32>) {
    let (src, imm) = match (reference, value_offset) {
        (MapReference::Fd(fd), None) => (BPF_PSEUDO_MAP_FD, fd),
        (MapReference::Fd(fd), Some(_)) => (BPF_PSEUDO_MAP_VALUE, fd),
        (MapReference::FdArrayIndex(i), None) => (BPF_PSEUDO_MAP_IDX, i),
        (MapReference::FdArrayIndex(i), Some(_)) => (BPF_PSEUDO_MAP_IDX_VALUE, i),
    };
    set_ld_imm64(insns, at, src as u8, imm, value_offset.unwrap_or(0) as i32);
}

fn set_ld_imm64(insns: &mut [bpf_insn], at: usize, src: u8, low: i32, high: i32) {
    if let Some(first) = insns.get_mut(at) {
        first.set_src_reg(src);
        first.imm = low;
    }
    if let Some(second) = insns.get_mut(at + 1) {
        second.imm = high;
    }
}

fn bind<'m>(
    bindings: &Bindings,
    site: &Site<'_>,
    map: &'m Map,
) -> Result<(MapReference, &'m str), RelocationError> {
    bindings
        .maps
        .get(&map.name)
        .map(|r| (*r, map.name.as_str()))
        .ok_or_else(|| {
            site.error(Kind::MapNotBound {
                map: map.name.clone(),
            })
        })
}

fn value_offset(site: &Site<'_>, map: &Map, offset: i64) -> Result<u32, RelocationError> {
    u32::try_from(offset)
        .ok()
        .filter(|&o| o <= map.def.value_size)
        .ok_or_else(|| {
            site.error(Kind::MapValueOffset {
                map: map.name.clone(),
                offset,
                value_size: map.def.value_size,
            })
        })
}

/// Patches the instruction `relocation` points at (already copied to `insns[base..]`); returns
/// the name of the map it now references, if any.
pub(super) fn relocate_insn(
    object: &Object,
    bindings: &Bindings,
    site: &Site<'_>,
    relocation: &InsnRelocation,
    insns: &mut [bpf_insn],
    base: usize,
) -> Result<Option<String>, RelocationError> {
    let at = base + relocation.insn_index;
    let Some(&insn) = insns.get(at) else {
        return Err(site.error(Kind::BadInstruction { code: 0 }));
    };
    let symbol = &relocation.symbol;
    if insn.code == LD_IMM64 && relocation.insn_index + 1 >= site.function.insns.len() {
        return Err(site.error(Kind::TruncatedLdImm64));
    }
    let Some(section_index) = symbol.section_index else {
        return relocate_extern(object, bindings, site, insns, at, insn);
    };
    if insn.code != LD_IMM64 {
        return Err(site.error(Kind::BadInstruction { code: insn.code }));
    }
    let imm = i64::from(insn.imm);
    if let Some(arena) = object
        .arena_data
        .as_ref()
        .filter(|a| a.section_index == section_index)
    {
        let offset = if symbol.kind == SymbolKind::Section {
            imm
        } else {
            imm + symbol.value as i64
        };
        return relocate_arena_global(object, bindings, site, arena, offset, insns, at);
    }
    let in_section = |m: &&Map| m.section_index == Some(section_index);
    if let Some(map) = object
        .maps
        .iter()
        .filter(in_section)
        .find(|m| matches!(m.kind, MapKind::Data(_)))
    {
        let offset = if symbol.kind == SymbolKind::Section {
            imm
        } else {
            imm + symbol.value as i64
        };
        let offset = value_offset(site, map, offset)?;
        let (reference, name) = bind(bindings, site, map)?;
        load_map(insns, at, reference, Some(offset));
        return Ok(Some(name.to_owned()));
    }
    let offset = if symbol.kind == SymbolKind::Section {
        symbol.value.wrapping_add(imm as u64)
    } else {
        symbol.value
    };
    let mut candidates = object.maps.iter().filter(in_section).peekable();
    if candidates.peek().is_none() {
        return Err(site.error(Kind::UnsupportedTarget));
    }
    let map = candidates
        .find(|m| m.section_offset == offset)
        .ok_or_else(|| {
            site.error(Kind::NoMapAtSymbol {
                section_index,
                offset,
            })
        })?;
    let (reference, name) = bind(bindings, site, map)?;
    load_map(insns, at, reference, None);
    Ok(Some(name.to_owned()))
}

/// A reference to an `__arena` global becomes a `BPF_PSEUDO_MAP_VALUE` load of the arena map
/// at the globals' place in the arena plus `offset`: the kernel turns it into the user-space
/// address of the variable, the address `__arena` pointers hold.
fn relocate_arena_global(
    object: &Object,
    bindings: &Bindings,
    site: &Site<'_>,
    arena: &ArenaData,
    offset: i64,
    insns: &mut [bpf_insn],
    at: usize,
) -> Result<Option<String>, RelocationError> {
    let map = match object.arena_maps().collect::<Vec<_>>().as_slice() {
        [] => return Err(site.error(Kind::NoArenaMap)),
        [map] => *map,
        several => {
            let names: Vec<&str> = several.iter().map(|m| m.name.as_str()).collect();
            return Err(site.error(Kind::SeveralArenaMaps {
                maps: names.join(", "),
            }));
        }
    };
    if offset < 0 || offset as u64 > arena.size() {
        return Err(site.error(Kind::ArenaDataOffset {
            offset,
            size: arena.size(),
        }));
    }
    let base = bindings.arena_data_offset.ok_or_else(|| {
        site.error(Kind::ArenaDataNotPlaced {
            map: map.name.clone(),
        })
    })?;
    let value_offset = base
        .checked_add(offset as u64)
        .and_then(|o| u32::try_from(o).ok())
        .ok_or_else(|| {
            site.error(Kind::ArenaDataOffset {
                offset: base.saturating_add(offset as u64) as i64,
                size: arena.size(),
            })
        })?;
    let (reference, name) = bind(bindings, site, map)?;
    load_map(insns, at, reference, Some(value_offset));
    Ok(Some(name.to_owned()))
}

fn relocate_extern(
    object: &Object,
    bindings: &Bindings,
    site: &Site<'_>,
    insns: &mut [bpf_insn],
    at: usize,
    insn: bpf_insn,
) -> Result<Option<String>, RelocationError> {
    let name = site.symbol;
    let (index, ext) = object
        .externs
        .iter()
        .enumerate()
        .find(|(_, e)| e.name == name)
        .ok_or_else(|| site.error(Kind::UnsupportedTarget))?;
    if insn.code == CALL {
        let slot = &mut insns[at];
        match bindings.kfuncs.get(name) {
            Some(kfunc) => {
                slot.set_src_reg(BPF_PSEUDO_KFUNC_CALL as u8);
                slot.imm = kfunc.btf_id as i32;
                slot.off = kfunc.fd_array_index;
            }
            None if ext.weak => {
                slot.set_src_reg(0);
                slot.imm = POISONED_KFUNC_HELPER.saturating_add(index as i32);
                slot.off = 0;
            }
            None => return Err(site.error(Kind::KfuncNotFound)),
        }
        return Ok(None);
    }
    if insn.code != LD_IMM64 {
        return Err(site.error(Kind::BadInstruction { code: insn.code }));
    }
    if ext.value_missing {
        return Err(site.error(Kind::UnresolvedExtern));
    }
    if let Some(map) = object
        .maps
        .iter()
        .find(|m| m.kind == MapKind::Kconfig && m.variable(name).is_some())
    {
        let offset = map.variable(name).map_or(0, |v| v.offset);
        let offset = value_offset(site, map, i64::from(offset) + i64::from(insn.imm))?;
        let (reference, map_name) = bind(bindings, site, map)?;
        load_map(insns, at, reference, Some(offset));
        return Ok(Some(map_name.to_owned()));
    }
    if matches!(ext.kind, crate::obj::ExternKind::Kconfig { .. }) {
        return Err(site.error(Kind::NoKconfigMap));
    }
    match (bindings.ksyms.get(name), bindings.kfuncs.get(name)) {
        (Some(KsymValue::BtfId { btf_id, btf_obj_fd }), _) => set_ld_imm64(
            insns,
            at,
            BPF_PSEUDO_BTF_ID as u8,
            *btf_id as i32,
            *btf_obj_fd,
        ),
        (Some(KsymValue::Address(address)), _) => set_ld_imm64(
            insns,
            at,
            0,
            *address as u32 as i32,
            (*address >> 32) as u32 as i32,
        ),
        (None, Some(kfunc)) => set_ld_imm64(
            insns,
            at,
            BPF_PSEUDO_BTF_ID as u8,
            kfunc.btf_id as i32,
            kfunc.btf_obj_fd,
        ),
        (None, None) if ext.weak => set_ld_imm64(insns, at, 0, 0, 0),
        (None, None) => return Err(site.error(Kind::UnresolvedExtern)),
    }
    Ok(None)
}
