//! [`ElfFile`]: one ELF image's symbols, sections, segments and notes.

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SectionKind, SymbolKind};

use super::notes::{Notes, linux_version_note};

/// The bytes are not an ELF image this reader understands, or a part of it is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable ELF file: {reason}")]
pub struct ElfError {
    /// What the ELF reader found wrong.
    pub reason: String,
}

impl ElfError {
    fn new(error: object::read::Error) -> ElfError {
        ElfError {
            reason: error.to_string(),
        }
    }
}

/// The instruction set an ELF image is for, where it matters to a reader (USDT argument specs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfMachine {
    X86_64,
    Aarch64,
    /// Any other machine.
    Other,
}

/// A symbol the image defines (not one it imports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfSymbol<'data> {
    pub name: &'data str,
    /// Its link-time virtual address.
    pub address: u64,
    /// True for functions (code symbols).
    pub is_function: bool,
}

/// A parsed ELF image (executable, shared library, object, vDSO), borrowing its bytes.
#[derive(Debug)]
pub struct ElfFile<'data> {
    file: object::File<'data>,
}

impl<'data> ElfFile<'data> {
    /// Parses the ELF headers of `data`.
    pub fn parse(data: &'data [u8]) -> Result<ElfFile<'data>, ElfError> {
        object::File::parse(data)
            .map(|file| ElfFile { file })
            .map_err(ElfError::new)
    }

    /// True for a 64-bit image.
    pub fn is_64(&self) -> bool {
        self.file.is_64()
    }

    /// True for a little-endian image.
    pub fn is_little_endian(&self) -> bool {
        self.file.is_little_endian()
    }

    /// True for an image loaded at an address chosen at run time (`ET_DYN`: shared libraries and
    /// position-independent executables).
    pub fn is_position_independent(&self) -> bool {
        self.file.kind() == object::ObjectKind::Dynamic
    }

    /// The machine the image is for.
    pub fn machine(&self) -> ElfMachine {
        match self.file.architecture() {
            object::Architecture::X86_64 => ElfMachine::X86_64,
            object::Architecture::Aarch64 => ElfMachine::Aarch64,
            _ => ElfMachine::Other,
        }
    }

    /// The contents of section `name`; `None` when the image has no such section.
    pub fn section_data(&self, name: &str) -> Result<Option<&'data [u8]>, ElfError> {
        self.file
            .section_by_name(name)
            .map(|section| section.data().map_err(ElfError::new))
            .transpose()
    }

    /// The link-time address of section `name`, if the image has it.
    pub fn section_address(&self, name: &str) -> Option<u64> {
        self.file.section_by_name(name).map(|s| s.address())
    }

    /// Every symbol the image defines, from `.symtab` then `.dynsym` (a symbol in both comes
    /// twice); symbols whose names are not UTF-8 are left out.
    pub fn defined_symbols(&self) -> impl Iterator<Item = ElfSymbol<'data>> + '_ {
        self.file
            .symbols()
            .chain(self.file.dynamic_symbols())
            .filter(|symbol| symbol.is_definition())
            .filter_map(|symbol| {
                Some(ElfSymbol {
                    name: symbol.name().ok()?,
                    address: symbol.address(),
                    is_function: symbol.kind() == SymbolKind::Text,
                })
            })
    }

    /// The address of the defined symbol `name` (`.symtab` first, then `.dynsym`).
    pub fn symbol_address(&self, name: &str) -> Option<u64> {
        self.defined_symbols()
            .find(|symbol| symbol.name == name)
            .map(|symbol| symbol.address)
    }

    /// The file offset of virtual address `address`, through the segment whose file contents
    /// hold it (where a uprobe on that address goes).
    pub fn address_to_file_offset(&self, address: u64) -> Option<u64> {
        self.file.segments().find_map(|segment| {
            let (offset, size) = segment.file_range();
            offset_within(address, segment.address(), offset, size)
        })
    }

    /// The file offset of virtual address `address`, through the allocated section with file
    /// contents that holds it (a USDT semaphore, which segments may not distinguish).
    pub fn address_to_section_offset(&self, address: u64) -> Option<u64> {
        self.file
            .sections()
            .filter(|s| s.kind() != SectionKind::UninitializedData && s.address() != 0)
            .find_map(|section| {
                let (offset, size) = section.file_range()?;
                offset_within(address, section.address(), offset, size)
            })
    }

    /// The notes of section `name` (none without the section), in the image's byte order.
    pub fn notes(&self, name: &str) -> Result<Notes<'data>, ElfError> {
        let data = self.section_data(name)?.unwrap_or_default();
        Ok(Notes::new(data, self.is_little_endian()))
    }

    /// `LINUX_VERSION_CODE` from the image's `Linux` note (type 0, 4 bytes), which the kernel
    /// puts in its vDSO; `None` when no `.note*` section holds one.
    pub fn linux_version_code(&self) -> Option<u32> {
        let little_endian = self.is_little_endian();
        self.file
            .sections()
            .filter(|s| s.name().is_ok_and(|n| n.starts_with(".note")))
            .find_map(|section| linux_version_note(Notes::new(section.data().ok()?, little_endian)))
    }
}

/// `address - start + offset` when `address` lies in the `size` bytes from `start`.
fn offset_within(address: u64, start: u64, offset: u64, size: u64) -> Option<u64> {
    let relative = address.checked_sub(start)?;
    if relative < size {
        relative.checked_add(offset)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error() {
        let error = ElfFile::parse(b"not an elf").unwrap_err();
        assert!(
            error.to_string().starts_with("not a readable ELF file"),
            "{error}"
        );
    }

    #[test]
    fn offsets_stay_inside_their_range() {
        assert_eq!(offset_within(0x1010, 0x1000, 0x200, 0x20), Some(0x210));
        assert_eq!(offset_within(0x1020, 0x1000, 0x200, 0x20), None);
        assert_eq!(offset_within(0xfff, 0x1000, 0x200, 0x20), None);
        assert_eq!(offset_within(u64::MAX, 0, 0, u64::MAX), None);
    }
}
