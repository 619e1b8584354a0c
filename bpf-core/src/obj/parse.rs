//! ELF → [`Object`]: sections, symbols, functions, programs, maps and relocations.

use std::collections::BTreeMap;

use object::Endianness;
use object::elf;
use object::read::elf::FileHeader;

use super::code::{is_subprogram_section, read_code_relocations, read_functions};
use super::elf_file::{
    Elf, Section, check_ident, elf_error, read_data_relocations, read_sections, read_symbols,
};
use super::ext_records::assign_ext_records;
use super::maps::{self, MapKind};
use super::{
    ARENA_SECTION, ArenaData, Binding, Extern, ExternKind, Map, Object, ParseError, Program,
    ProgramSection, Symbol, SymbolKind, Variable,
};
use super::{btf_externs, btf_fixup, btf_maps, struct_ops, struct_ops_maps};
use crate::btf::{Btf, BtfExt, BtfKind};
use crate::log::{LOG_SECTION, LogSection};

impl Object {
    /// Parses an eBPF ELF object. Never panics on malformed input.
    pub fn parse(data: &[u8]) -> Result<Object, ParseError> {
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
        let file = ElfFile {
            endian,
            data,
            sections,
            symbols,
        };

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
        let mut deferred = Deferred::default();
        for section in &file.sections {
            read_section(&mut object, &mut deferred, section, &file.symbols)?;
        }
        let data_relocations = read_relocations(&mut object, &deferred, &file)?;
        object.externs = untyped_externs(&file.symbols);
        let mut btf = parse_btf(&deferred)?;
        if let Some(btf) = &btf {
            object
                .maps
                .extend(btf_defined_maps(btf, &deferred, &file, data_relocations)?);
            apply_btf(&mut object, btf, &deferred, &file.sections)?;
        }
        if let Some(btf) = &mut btf {
            fix_up_btf(btf, &object, &file);
        }
        object.btf = btf;
        check_program_names(&object.programs)?;
        Ok(object)
    }
}

/// The ELF file read: its sections and symbols, and the bytes relocation sections are read from.
struct ElfFile<'a> {
    endian: Endianness,
    data: &'a [u8],
    sections: Vec<Section<'a>>,
    symbols: Vec<Symbol>,
}

/// Sections found in the first pass and read once BTF and the relocations are known.
#[derive(Default)]
struct Deferred<'a> {
    btf: Option<&'a [u8]>,
    btf_ext: Option<&'a [u8]>,
    /// Index of `.maps`.
    btf_maps: Option<usize>,
    /// Indexes of `.struct_ops` and `.struct_ops.link`.
    struct_ops: Vec<usize>,
}

/// Relocations of the sections whose maps are built from BTF, as (offset, symbol).
#[derive(Default)]
struct DataRelocations<'s> {
    btf_maps: Vec<(u64, &'s Symbol)>,
    struct_ops: BTreeMap<usize, Vec<(u64, &'s Symbol)>>,
}

/// Reads what `section` holds into `object`, or notes it in `deferred` for later.
fn read_section<'a>(
    object: &mut Object,
    deferred: &mut Deferred<'a>,
    section: &Section<'a>,
    symbols: &[Symbol],
) -> Result<(), ParseError> {
    let is_data = matches!(section.sh_type, elf::SHT_PROGBITS | elf::SHT_NOBITS);
    match section.name.as_str() {
        "license" => object.license = Some(read_license(section)?),
        "version" => object.kernel_version = Some(read_version(section)?),
        ".BTF" => deferred.btf = Some(section.data),
        ".BTF.ext" => deferred.btf_ext = Some(section.data),
        ".maps" => deferred.btf_maps = Some(section.index),
        ARENA_SECTION if is_data && section.size > 0 => {
            object.arena_data = Some(ArenaData {
                section_index: section.index,
                data: section.contents()?,
                variables: data_variables(section, symbols)?,
            });
        }
        LOG_SECTION if section.sh_type == elf::SHT_PROGBITS => {
            object.log_section = Some(read_log_section(section, symbols));
        }
        name if struct_ops::is_struct_ops_section(name) => deferred.struct_ops.push(section.index),
        name if name == "maps" || name.starts_with("maps/") => {
            object.maps.extend(read_legacy_maps(section, symbols)?);
        }
        _ if section.is_code() => read_code_section(object, section, symbols)?,
        name => {
            if let Some(kind) = maps::data_kind(name).filter(|_| is_data && section.size > 0) {
                let mut map = maps::data_map(
                    name,
                    MapKind::Data(kind),
                    Some(section.index),
                    section.contents()?,
                );
                map.variables = data_variables(section, symbols)?;
                object.maps.push(map);
            }
        }
    }
    Ok(())
}

/// The `bpf_log.h` call-site descriptors and the symbols naming them.
fn read_log_section(section: &Section<'_>, symbols: &[Symbol]) -> LogSection {
    LogSection {
        data: section.data.to_vec(),
        symbols: symbols
            .iter()
            .filter(|s| s.section_index == Some(section.index) && s.kind == SymbolKind::Object)
            .map(|s| (s.value, s.name.clone()))
            .collect(),
    }
}

/// Maps of a legacy `maps` / `maps/*` section, one record per symbol.
fn read_legacy_maps(section: &Section<'_>, symbols: &[Symbol]) -> Result<Vec<Map>, ParseError> {
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
    maps::parse_legacy_maps(&section.name, section.index, &contents, &defs)
}

/// The functions of a code section, and a program for each global one outside `.text`.
fn read_code_section(
    object: &mut Object,
    section: &Section<'_>,
    symbols: &[Symbol],
) -> Result<(), ParseError> {
    for function in read_functions(section, symbols)? {
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
    Ok(())
}

/// Attaches code relocations to their instructions; returns those of the sections whose maps
/// are built from BTF.
fn read_relocations<'s>(
    object: &mut Object,
    deferred: &Deferred<'_>,
    file: &'s ElfFile<'_>,
) -> Result<DataRelocations<'s>, ParseError> {
    let mut relocations = DataRelocations::default();
    for rel_section in file.sections.iter().filter(|s| s.sh_type == elf::SHT_REL) {
        let Some(target) = file.sections.get(rel_section.info as usize) else {
            return Err(ParseError::Section {
                index: rel_section.index,
                reason: format!(
                    "`{}` applies to section {}, which does not exist",
                    rel_section.name, rel_section.info
                ),
            });
        };
        let read_data =
            || read_data_relocations(file.endian, file.data, rel_section, &file.symbols);
        if target.is_code() {
            read_code_relocations(
                file.endian,
                file.data,
                rel_section,
                target,
                &file.symbols,
                &mut object.functions,
            )?;
        } else if Some(target.index) == deferred.btf_maps {
            relocations.btf_maps = read_data()?;
        } else if deferred.struct_ops.contains(&target.index) {
            relocations.struct_ops.insert(target.index, read_data()?);
        }
    }
    for function in object.functions.values_mut() {
        function.relocations.sort_by_key(|r| r.insn_index);
    }
    Ok(relocations)
}

/// Undefined global symbols, typed later from BTF.
fn untyped_externs(symbols: &[Symbol]) -> Vec<Extern> {
    symbols
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
        .collect()
}

/// The object's `.BTF`; unparsable BTF is an error only when maps are defined by it.
fn parse_btf(deferred: &Deferred<'_>) -> Result<Option<Btf>, ParseError> {
    match deferred.btf.map(Btf::parse) {
        Some(Ok(btf)) => Ok(Some(btf)),
        Some(Err(reason)) => {
            // Only BTF-defined maps strictly need it; everything else degrades gracefully.
            if deferred.btf_maps.is_some() || !deferred.struct_ops.is_empty() {
                return Err(ParseError::InvalidBtf(reason));
            }
            log::warn!("ignoring unparsable .BTF: {reason}");
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The maps of `.maps` and of the struct_ops sections, both described by BTF.
fn btf_defined_maps(
    btf: &Btf,
    deferred: &Deferred<'_>,
    file: &ElfFile<'_>,
    mut relocations: DataRelocations<'_>,
) -> Result<Vec<Map>, ParseError> {
    let mut maps = Vec::new();
    if let Some(index) = deferred.btf_maps {
        let size = file.sections.get(index).map_or(0, |s| s.size);
        maps.extend(btf_maps::parse_btf_maps(
            btf,
            index,
            size,
            &file.symbols,
            &relocations.btf_maps,
        )?);
    }
    for &index in &deferred.struct_ops {
        let section = &file.sections[index];
        let relocations = relocations.struct_ops.remove(&index).unwrap_or_default();
        maps.extend(struct_ops_maps::parse_struct_ops(
            btf,
            &section.name,
            index,
            section.data,
            &file.symbols,
            &relocations,
        )?);
    }
    Ok(maps)
}

/// What BTF tells of the rest: extern types and the `.kconfig` map, data maps' value types,
/// and the `.BTF.ext` records of each function.
fn apply_btf(
    object: &mut Object,
    btf: &Btf,
    deferred: &Deferred<'_>,
    sections: &[Section<'_>],
) -> Result<(), ParseError> {
    if let Some(kconfig) = btf_externs::type_externs(btf, &mut object.externs)? {
        object.maps.push(kconfig);
    }
    for map in &mut object.maps {
        if let MapKind::Data(_) = map.kind {
            map.def.value_type_id = btf.find_by_name_kind(&map.name, BtfKind::Datasec);
        }
    }
    if let Some(ext) = deferred.btf_ext {
        match BtfExt::parse(ext, btf) {
            Ok(ext) => {
                assign_ext_records(&mut object.functions, sections, &ext)?;
                object.btf_ext = Some(ext);
            }
            Err(reason) => log::warn!("ignoring unparsable .BTF.ext: {reason}"),
        }
    }
    Ok(())
}

/// Completes the BTF clang leaves for the loader (section sizes, variable offsets, externs).
fn fix_up_btf(btf: &mut Btf, object: &Object, file: &ElfFile<'_>) {
    let sizes: Vec<(String, u64)> = file
        .sections
        .iter()
        .map(|s| (s.name.clone(), s.size))
        .collect();
    if let Err(e) = btf_fixup::fixup(btf, &sizes, &file.symbols, &object.maps, &object.externs) {
        log::warn!("BTF fix-up failed, the kernel may refuse this BTF: {e}");
    }
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
