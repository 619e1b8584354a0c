//! The ELF file as parsing sees it: sections, symbols and the entries of relocation sections.

use object::Endianness;
use object::elf;
use object::read::elf::{Rel, SectionHeader, Sym};

use super::{Binding, ParseError, Symbol, SymbolKind};

pub(super) type Elf = elf::FileHeader64<Endianness>;

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
    pub fn is_code(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS && self.flags & u64::from(elf::SHF_EXECINSTR) != 0
    }

    /// Section contents, zero-filled for `SHT_NOBITS`.
    pub fn contents(&self) -> Result<Vec<u8>, ParseError> {
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

pub(super) fn elf_error(e: object::read::Error) -> ParseError {
    ParseError::Elf(e.to_string())
}

pub(super) fn check_ident(data: &[u8]) -> Result<(), ParseError> {
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

pub(super) fn read_sections<'a>(
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

pub(super) fn read_symbols(
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
