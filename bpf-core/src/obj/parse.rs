//! ELF → [`Object`]: sections, symbols, functions, programs, maps and relocations.

use std::collections::BTreeMap;

use object::Endianness;
use object::elf;
use object::read::elf::{FileHeader, Rel, SectionHeader, Sym};

use super::insn::{self, INSN_SIZE};
use bpf_sys::generated::{bpf_func_info, bpf_line_info};

use super::maps::{self, MapKind};
use super::{
    ARENA_SECTION, ArenaData, Binding, Extern, ExternKind, Function, FunctionId, InsnRelocation,
    Object, ParseError, Program, ProgramSection, Symbol, SymbolKind, Variable,
};
use super::{btf_externs, btf_fixup, btf_maps, struct_ops, struct_ops_maps};
use crate::btf::{Btf, BtfExt, BtfKind, CoreRelo};

type Elf = elf::FileHeader64<Endianness>;

const EI_NIDENT: usize = 16;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;

/// Largest zero-filled section (`.bss`) accepted, so hostile sizes cannot exhaust memory.
const MAX_NOBITS_SIZE: u64 = 1 << 26;

/// One ELF section with what parsing needs of it.
pub(super) struct Section<'a> {
    pub index: usize,
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub size: u64,
    pub info: u32,
    pub data: &'a [u8],
    /// The header, for reading relocations.
    pub header: &'a elf::SectionHeader64<Endianness>,
}

impl Section<'_> {
    fn is_code(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS && self.flags & u64::from(elf::SHF_EXECINSTR) != 0
    }

    /// Section contents, zero-filled for `SHT_NOBITS`.
    fn contents(&self) -> Result<Vec<u8>, ParseError> {
        if self.sh_type != elf::SHT_NOBITS {
            return Ok(self.data.to_vec());
        }
        if self.size > MAX_NOBITS_SIZE {
            return Err(ParseError::Section {
                index: self.index,
                reason: format!(
                    "`{}` is {} bytes, more than {MAX_NOBITS_SIZE}",
                    self.name, self.size
                ),
            });
        }
        Ok(vec![0; self.size as usize])
    }
}

fn elf_error(e: object::read::Error) -> ParseError {
    ParseError::Elf(e.to_string())
}

fn check_ident(data: &[u8]) -> Result<(), ParseError> {
    let ident = data.get(..EI_NIDENT).ok_or_else(|| {
        ParseError::Elf(format!(
            "truncated: {} bytes cannot hold an ELF identification",
            data.len()
        ))
    })?;
    if ident[..4] != elf::ELFMAG {
        return Err(ParseError::Elf("missing ELF magic".into()));
    }
    if ident[EI_CLASS] != elf::ELFCLASS64 {
        return Err(ParseError::WrongClass {
            class: ident[EI_CLASS],
        });
    }
    let native = if cfg!(target_endian = "little") {
        elf::ELFDATA2LSB
    } else {
        elf::ELFDATA2MSB
    };
    if ident[EI_DATA] != native {
        return Err(ParseError::WrongEndianness {
            encoding: ident[EI_DATA],
        });
    }
    Ok(())
}

fn read_symbols(
    endian: Endianness,
    symtab: &object::read::elf::SymbolTable<'_, Elf>,
    sections: &[Section<'_>],
) -> Result<Vec<Symbol>, ParseError> {
    let mut symbols = Vec::with_capacity(symtab.len());
    for (index, sym) in symtab.enumerate() {
        let index = index.0;
        let error = |reason: String| ParseError::Symbol { index, reason };
        let name = symtab
            .symbol_name(endian, sym)
            .map_err(|e| error(e.to_string()))?;
        let mut name =
            String::from_utf8(name.to_vec()).map_err(|_| error("name is not UTF-8".into()))?;
        let shndx = sym.st_shndx(endian);
        let section_index = match shndx {
            elf::SHN_UNDEF => None,
            elf::SHN_XINDEX => symtab
                .shndx(endian, object::SymbolIndex(index))
                .map(|i| i as usize),
            s if s >= elf::SHN_LORESERVE => None,
            s => Some(usize::from(s)),
        };
        if let Some(s) = section_index {
            let section = sections.get(s).ok_or_else(|| {
                error(format!(
                    "`{name}` has section index {s}, beyond the {} sections",
                    sections.len()
                ))
            })?;
            if sym.st_type() == elf::STT_SECTION && name.is_empty() {
                name.clone_from(&section.name);
            }
        }
        let kind = match sym.st_type() {
            elf::STT_NOTYPE => SymbolKind::NoType,
            elf::STT_OBJECT => SymbolKind::Object,
            elf::STT_FUNC => SymbolKind::Func,
            elf::STT_SECTION => SymbolKind::Section,
            other => SymbolKind::Other(other),
        };
        let binding = match sym.st_bind() {
            elf::STB_GLOBAL => Binding::Global,
            elf::STB_WEAK => Binding::Weak,
            _ => Binding::Local,
        };
        symbols.push(Symbol {
            index,
            name,
            section_index,
            value: sym.st_value(endian),
            size: sym.st_size(endian),
            kind,
            binding,
            hidden: matches!(sym.st_visibility(), elf::STV_HIDDEN | elf::STV_INTERNAL),
        });
    }
    Ok(symbols)
}

fn is_subprogram_section(name: &str) -> bool {
    name == ".text" || name.starts_with(".text.")
}

/// Splits a code section into functions at its `STT_FUNC` symbols.
fn read_functions(section: &Section<'_>, symbols: &[Symbol]) -> Result<Vec<Function>, ParseError> {
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
fn read_code_relocations(
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

pub(super) fn read_rel_symbol<'s>(
    rel_section: &Section<'_>,
    entry: usize,
    index: usize,
    symbols: &'s [Symbol],
) -> Result<&'s Symbol, ParseError> {
    symbols
        .get(index)
        .filter(|_| index != 0)
        .ok_or_else(|| ParseError::RelocationSymbol {
            section: rel_section.name.clone(),
            entry,
            symbol: index,
            count: symbols.len(),
        })
}

/// Raw relocations of a non-code section as (offset, symbol).
pub(super) fn read_data_relocations<'s>(
    endian: Endianness,
    data: &[u8],
    rel_section: &Section<'_>,
    symbols: &'s [Symbol],
) -> Result<Vec<(u64, &'s Symbol)>, ParseError> {
    let Some((rels, _)) =
        rel_section
            .header
            .rel(endian, data)
            .map_err(|e| ParseError::Section {
                index: rel_section.index,
                reason: e.to_string(),
            })?
    else {
        return Ok(Vec::new());
    };
    rels.iter()
        .enumerate()
        .map(|(entry, rel)| {
            let symbol = read_rel_symbol(rel_section, entry, rel.r_sym(endian) as usize, symbols)?;
            Ok((rel.r_offset(endian), symbol))
        })
        .collect()
}

fn read_sections<'a>(
    endian: Endianness,
    data: &'a [u8],
    table: &object::read::elf::SectionTable<'a, Elf>,
) -> Result<Vec<Section<'a>>, ParseError> {
    let mut sections = Vec::with_capacity(table.len());
    for (index, header) in table.enumerate() {
        let index = index.0;
        let error = |reason: String| ParseError::Section { index, reason };
        let name = table
            .section_name(endian, header)
            .map_err(|e| error(e.to_string()))?;
        let name =
            String::from_utf8(name.to_vec()).map_err(|_| error("name is not UTF-8".into()))?;
        let sh_type = header.sh_type(endian);
        let section_data = header
            .data(endian, data)
            .map_err(|e| error(format!("`{name}`: {e}")))?;
        sections.push(Section {
            index,
            sh_type,
            flags: header.sh_flags(endian),
            size: header.sh_size(endian),
            info: header.sh_info(endian),
            data: section_data,
            header,
            name,
        });
    }
    Ok(sections)
}

fn read_license(section: &Section<'_>) -> Result<String, ParseError> {
    let text = section.data.split(|&b| b == 0).next().unwrap_or_default();
    String::from_utf8(text.to_vec()).map_err(|_| ParseError::License)
}

fn read_version(section: &Section<'_>) -> Result<u32, ParseError> {
    let bytes: [u8; 4] = section
        .data
        .try_into()
        .map_err(|_| ParseError::Version { size: section.size })?;
    Ok(u32::from_le_bytes(bytes))
}

fn data_variables(section: &Section<'_>, symbols: &[Symbol]) -> Result<Vec<Variable>, ParseError> {
    let mut variables = Vec::new();
    for sym in symbols {
        if sym.section_index != Some(section.index)
            || !matches!(sym.kind, SymbolKind::Object | SymbolKind::NoType)
            || sym.name.is_empty()
        {
            continue;
        }
        let in_bounds = sym
            .value
            .checked_add(sym.size)
            .is_some_and(|end| end <= section.size);
        if !in_bounds {
            return Err(ParseError::Symbol {
                index: sym.index,
                reason: format!(
                    "`{}` at offset {} size {} lies outside section `{}` ({} bytes)",
                    sym.name, sym.value, sym.size, section.name, section.size
                ),
            });
        }
        variables.push(Variable {
            name: sym.name.clone(),
            offset: sym.value as u32,
            size: sym.size as u32,
        });
    }
    variables.sort_by_key(|v| v.offset);
    Ok(variables)
}

impl Object {
    /// Parses an eBPF ELF object. Never panics on malformed input.
    pub fn parse(data: &[u8]) -> Result<Object, ParseError> {
        parse(data)
    }
}

fn parse(data: &[u8]) -> Result<Object, ParseError> {
    check_ident(data)?;
    let header = Elf::parse(data).map_err(elf_error)?;
    let endian = header.endian().map_err(elf_error)?;
    let machine = header.e_machine(endian);
    if machine != elf::EM_BPF {
        return Err(ParseError::WrongMachine { machine });
    }
    let table = header.sections(endian, data).map_err(elf_error)?;
    let sections = read_sections(endian, data, &table)?;
    let symtab = table
        .symbols(endian, data, elf::SHT_SYMTAB)
        .map_err(elf_error)?;
    let symbols = read_symbols(endian, &symtab, &sections)?;

    let mut object = Object {
        license: None,
        kernel_version: None,
        btf: None,
        btf_ext: None,
        programs: Vec::new(),
        functions: BTreeMap::new(),
        maps: Vec::new(),
        externs: Vec::new(),
        arena_data: None,
        log_section: None,
    };
    let mut btf_maps_section = None;
    let (mut btf_data, mut btf_ext_data) = (None, None);
    let mut struct_ops_sections = Vec::new();

    for section in &sections {
        match section.name.as_str() {
            "license" => object.license = Some(read_license(section)?),
            "version" => object.kernel_version = Some(read_version(section)?),
            ".BTF" => btf_data = Some(section.data),
            ".BTF.ext" => btf_ext_data = Some(section.data),
            ".maps" => btf_maps_section = Some(section.index),
            ARENA_SECTION
                if matches!(section.sh_type, elf::SHT_PROGBITS | elf::SHT_NOBITS)
                    && section.size > 0 =>
            {
                object.arena_data = Some(ArenaData {
                    section_index: section.index,
                    data: section.contents()?,
                    variables: data_variables(section, &symbols)?,
                });
            }
            crate::log::LOG_SECTION if section.sh_type == elf::SHT_PROGBITS => {
                object.log_section = Some(crate::log::LogSection {
                    data: section.data.to_vec(),
                    symbols: symbols
                        .iter()
                        .filter(|s| {
                            s.section_index == Some(section.index) && s.kind == SymbolKind::Object
                        })
                        .map(|s| (s.value, s.name.clone()))
                        .collect(),
                });
            }
            name if struct_ops::is_struct_ops_section(name) => {
                struct_ops_sections.push(section.index)
            }
            name if name == "maps" || name.starts_with("maps/") => {
                let defs: Vec<(String, u64)> = symbols
                    .iter()
                    .filter(|s| {
                        s.section_index == Some(section.index)
                            && s.kind != SymbolKind::Section
                            && !s.name.is_empty()
                    })
                    .map(|s| (s.name.clone(), s.value))
                    .collect();
                let contents = section.contents()?;
                object.maps.extend(maps::parse_legacy_maps(
                    name,
                    section.index,
                    &contents,
                    &defs,
                )?);
            }
            _ if section.is_code() => {
                for function in read_functions(section, &symbols)? {
                    if !is_subprogram_section(&section.name) && function.binding != Binding::Local {
                        object.programs.push(Program {
                            name: function.name.clone(),
                            section_name: section.name.clone(),
                            section: ProgramSection::parse(
                                section.name.strip_prefix('?').unwrap_or(&section.name),
                            ),
                            function: function.id,
                            autoload: !section.name.starts_with('?'),
                        });
                    }
                    object.functions.insert(function.id, function);
                }
            }
            name => {
                let is_data = matches!(section.sh_type, elf::SHT_PROGBITS | elf::SHT_NOBITS);
                if let Some(kind) = maps::data_kind(name).filter(|_| is_data && section.size > 0) {
                    let mut map = maps::data_map(
                        name,
                        MapKind::Data(kind),
                        Some(section.index),
                        section.contents()?,
                    );
                    map.variables = data_variables(section, &symbols)?;
                    object.maps.push(map);
                }
            }
        }
    }

    let mut map_relocations = Vec::new();
    let mut struct_ops_relocations: BTreeMap<usize, Vec<(u64, &Symbol)>> = BTreeMap::new();
    for rel_section in sections.iter().filter(|s| s.sh_type == elf::SHT_REL) {
        let Some(target) = sections.get(rel_section.info as usize) else {
            return Err(ParseError::Section {
                index: rel_section.index,
                reason: format!(
                    "`{}` applies to section {}, which does not exist",
                    rel_section.name, rel_section.info
                ),
            });
        };
        if target.is_code() {
            read_code_relocations(
                endian,
                data,
                rel_section,
                target,
                &symbols,
                &mut object.functions,
            )?;
        } else if Some(target.index) == btf_maps_section {
            map_relocations = read_data_relocations(endian, data, rel_section, &symbols)?;
        } else if struct_ops_sections.contains(&target.index) {
            struct_ops_relocations.insert(
                target.index,
                read_data_relocations(endian, data, rel_section, &symbols)?,
            );
        }
    }
    for function in object.functions.values_mut() {
        function.relocations.sort_by_key(|r| r.insn_index);
    }

    object.externs = symbols
        .iter()
        .filter(|s| {
            s.section_index.is_none()
                && s.binding != Binding::Local
                && !s.name.is_empty()
                && s.kind != SymbolKind::Section
        })
        .map(|s| Extern {
            name: s.name.clone(),
            kind: ExternKind::Untyped,
            weak: s.binding == Binding::Weak,
            value_missing: false,
        })
        .collect();

    let mut btf = match btf_data.map(Btf::parse) {
        Some(Ok(btf)) => Some(btf),
        Some(Err(reason)) => {
            // Only BTF-defined maps strictly need it; everything else degrades gracefully.
            if btf_maps_section.is_some() || !struct_ops_sections.is_empty() {
                return Err(ParseError::InvalidBtf(reason));
            }
            log::warn!("ignoring unparsable .BTF: {reason}");
            None
        }
        None => None,
    };
    if let Some(index) = btf_maps_section {
        let btf = btf.as_ref().ok_or_else(|| {
            ParseError::Btf("`.maps` section needs .BTF, which is missing".into())
        })?;
        let size = sections.get(index).map_or(0, |s| s.size);
        object.maps.extend(btf_maps::parse_btf_maps(
            btf,
            index,
            size,
            &symbols,
            &map_relocations,
        )?);
    }
    for index in struct_ops_sections {
        let section = &sections[index];
        let btf = btf.as_ref().ok_or_else(|| {
            ParseError::Btf(format!(
                "`{}` section needs .BTF, which is missing",
                section.name
            ))
        })?;
        let relocations = struct_ops_relocations.remove(&index).unwrap_or_default();
        object.maps.extend(struct_ops_maps::parse_struct_ops(
            btf,
            &section.name,
            index,
            section.data,
            &symbols,
            &relocations,
        )?);
    }
    if let Some(btf) = &btf {
        if let Some(kconfig) = btf_externs::type_externs(btf, &mut object.externs)? {
            object.maps.push(kconfig);
        }
        for map in &mut object.maps {
            if let MapKind::Data(_) = map.kind {
                map.def.value_type_id = btf.find_by_name_kind(&map.name, BtfKind::Datasec);
            }
        }
        if let Some(ext) = btf_ext_data {
            match BtfExt::parse(ext, btf) {
                Ok(ext) => {
                    assign_ext_records(&mut object, &sections, &ext)?;
                    object.btf_ext = Some(ext);
                }
                Err(reason) => log::warn!("ignoring unparsable .BTF.ext: {reason}"),
            }
        }
    }
    if let Some(btf) = &mut btf {
        let sizes: Vec<(String, u64)> = sections.iter().map(|s| (s.name.clone(), s.size)).collect();
        if let Err(e) = btf_fixup::fixup(btf, &sizes, &symbols, &object.maps, &object.externs) {
            log::warn!("BTF fix-up failed, the kernel may refuse this BTF: {e}");
        }
    }
    object.btf = btf;
    check_program_names(&object.programs)?;
    Ok(object)
}

fn check_program_names(programs: &[Program]) -> Result<(), ParseError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for program in programs {
        if let Some(first) = seen.insert(&program.name, &program.section_name) {
            return Err(ParseError::DuplicateProgram {
                name: program.name.clone(),
                first: first.to_owned(),
                second: program.section_name.clone(),
            });
        }
    }
    Ok(())
}

/// Distributes `.BTF.ext` records to the functions they describe, with offsets made relative to
/// each function (instruction indexes for func/line info, bytes for CO-RE records).
fn assign_ext_records(
    object: &mut Object,
    sections: &[Section<'_>],
    ext: &BtfExt,
) -> Result<(), ParseError> {
    let code_section = |name: &str| {
        sections
            .iter()
            .find(|s| s.name == name && s.is_code())
            .map(|s| s.index)
    };
    // (function, offset relative to it in instructions) of a byte offset into section `name`.
    let locate =
        |functions: &mut BTreeMap<FunctionId, Function>, name: &str, insn_off: u32, what: &str| {
            let misplaced = || {
                ParseError::Btf(format!(
                    ".BTF.ext {what} at byte {insn_off} of `{name}` is not in a function"
                ))
            };
            let section = code_section(name).ok_or_else(misplaced)?;
            if !(insn_off as usize).is_multiple_of(INSN_SIZE) {
                return Err(misplaced());
            }
            let index = insn_off as usize / INSN_SIZE;
            containing_function(functions, section, index)
                .map(|f| (f.id, (index - f.id.insn_index) as u32))
                .ok_or_else(misplaced)
        };
    let known = |name: &str| {
        let found = code_section(name).is_some();
        if !found {
            log::debug!(".BTF.ext describes `{name}`, which is not a code section");
        }
        found
    };
    for section in ext.func_info.iter().filter(|s| known(&s.name)) {
        for record in &section.records {
            let (id, relative) = locate(
                &mut object.functions,
                &section.name,
                record.insn_off,
                "func_info",
            )?;
            if let Some(f) = object.functions.get_mut(&id) {
                f.func_info.push(bpf_func_info {
                    insn_off: relative,
                    type_id: record.type_id,
                });
            }
        }
    }
    for section in ext.line_info.iter().filter(|s| known(&s.name)) {
        for record in &section.records {
            let (id, relative) = locate(
                &mut object.functions,
                &section.name,
                record.insn_off,
                "line_info",
            )?;
            if let Some(f) = object.functions.get_mut(&id) {
                f.line_info.push(bpf_line_info {
                    insn_off: relative,
                    file_name_off: record.file_name_off,
                    line_off: record.line_off,
                    line_col: record.line_col,
                });
            }
        }
    }
    for section in ext.core_relos.iter().filter(|s| known(&s.name)) {
        for record in &section.records {
            let (id, relative) = locate(
                &mut object.functions,
                &section.name,
                record.insn_off,
                "CO-RE relocation",
            )?;
            if let Some(f) = object.functions.get_mut(&id) {
                f.core_relocations.push(CoreRelo {
                    insn_off: relative * INSN_SIZE as u32,
                    ..*record
                });
            }
        }
    }
    Ok(())
}
