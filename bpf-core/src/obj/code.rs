//! Code sections: split into functions at their symbols, with the ELF relocations of each
//! instruction.

use std::collections::BTreeMap;

use object::Endianness;
use object::read::elf::{Rel, SectionHeader};

use super::elf_file::{Section, read_rel_symbol};
use super::insn::{self, INSN_SIZE};
use super::{Binding, Function, FunctionId, InsnRelocation, ParseError, Symbol, SymbolKind};

pub(super) fn is_subprogram_section(name: &str) -> bool {
    name == ".text" || name.starts_with(".text.")
}

/// Splits a code section into functions at its `STT_FUNC` symbols.
pub(super) fn read_functions(
    section: &Section<'_>,
    symbols: &[Symbol],
) -> Result<Vec<Function>, ParseError> {
    if !section.size.is_multiple_of(INSN_SIZE as u64) {
        return Err(ParseError::CodeSize {
            section: section.name.clone(),
            size: section.size,
        });
    }
    let insns = insn::decode(section.data);
    let mut funcs: Vec<&Symbol> = symbols
        .iter()
        .filter(|s| s.section_index == Some(section.index) && s.kind == SymbolKind::Func)
        .collect();
    funcs.sort_by_key(|s| s.value);
    let mut functions = Vec::with_capacity(funcs.len().max(1));
    for sym in funcs {
        let bounds = |reason| ParseError::FunctionBounds {
            name: sym.name.clone(),
            section: section.name.clone(),
            offset: sym.value,
            size: sym.size,
            reason,
        };
        if sym.value % INSN_SIZE as u64 != 0 || sym.size % INSN_SIZE as u64 != 0 {
            return Err(bounds("is not aligned to whole instructions"));
        }
        if sym.size == 0 {
            return Err(bounds("is empty"));
        }
        let start = (sym.value / INSN_SIZE as u64) as usize;
        let end = sym
            .value
            .checked_add(sym.size)
            .map(|e| (e / INSN_SIZE as u64) as usize)
            .filter(|&e| e <= insns.len())
            .ok_or_else(|| bounds("extends past the end of the section"))?;
        functions.push(new_function(
            &sym.name,
            section,
            start,
            sym.binding,
            &insns[start..end],
        ));
    }
    if functions.is_empty() && !insns.is_empty() && !is_subprogram_section(&section.name) {
        // Hand-written objects may lack function symbols: the whole section is one program.
        functions.push(new_function(
            &section.name,
            section,
            0,
            Binding::Global,
            &insns,
        ));
    }
    Ok(functions)
}

fn new_function(
    name: &str,
    section: &Section<'_>,
    insn_index: usize,
    binding: Binding,
    insns: &[bpf_sys::generated::bpf_insn],
) -> Function {
    Function {
        name: name.to_owned(),
        section_name: section.name.clone(),
        id: FunctionId {
            section_index: section.index,
            insn_index,
        },
        binding,
        insns: insns.to_vec(),
        relocations: Vec::new(),
        func_info: Vec::new(),
        line_info: Vec::new(),
        core_relocations: Vec::new(),
    }
}

/// The function of `section_index` whose instructions contain `insn_index`.
pub(super) fn containing_function(
    functions: &mut BTreeMap<FunctionId, Function>,
    section_index: usize,
    insn_index: usize,
) -> Option<&mut Function> {
    let key = FunctionId {
        section_index,
        insn_index,
    };
    functions
        .range_mut(..=key)
        .next_back()
        .map(|(_, f)| f)
        .filter(|f| {
            f.id.section_index == section_index && insn_index < f.id.insn_index + f.insns.len()
        })
}

/// Relocations of a code section, attached to the instruction they patch.
pub(super) fn read_code_relocations(
    endian: Endianness,
    data: &[u8],
    rel_section: &Section<'_>,
    target: &Section<'_>,
    symbols: &[Symbol],
    functions: &mut BTreeMap<FunctionId, Function>,
) -> Result<(), ParseError> {
    // Computed once per function: which instructions are second halves of an ld_imm64.
    let mut second_halves: BTreeMap<FunctionId, Vec<bool>> = BTreeMap::new();
    let Some((rels, _)) =
        rel_section
            .header
            .rel(endian, data)
            .map_err(|e| ParseError::Section {
                index: rel_section.index,
                reason: e.to_string(),
            })?
    else {
        return Ok(());
    };
    for (entry, rel) in rels.iter().enumerate() {
        let symbol = read_rel_symbol(rel_section, entry, rel.r_sym(endian) as usize, symbols)?;
        let offset = rel.r_offset(endian);
        let outside = || ParseError::RelocationOutsideFunction {
            section: target.name.clone(),
            offset,
            symbol: symbol.name.clone(),
        };
        if offset % INSN_SIZE as u64 != 0 {
            return Err(outside());
        }
        let section_insn = usize::try_from(offset / INSN_SIZE as u64).map_err(|_| outside())?;
        let function =
            containing_function(functions, target.index, section_insn).ok_or_else(outside)?;
        let insn_index = section_insn - function.id.insn_index;
        let halves = second_halves
            .entry(function.id)
            .or_insert_with(|| insn::second_halves(&function.insns));
        if halves.get(insn_index).copied().unwrap_or(false) {
            return Err(ParseError::RelocationInsideLdImm64 {
                section: target.name.clone(),
                offset,
                symbol: symbol.name.clone(),
            });
        }
        function.relocations.push(InsnRelocation {
            insn_index,
            symbol: symbol.clone(),
        });
    }
    Ok(())
}
