//! `.note.stapsdt`: one ELF note (owner `stapsdt`, type 3) per probe site. Its descriptor holds
//! the probe address, the link-time address of `.stapsdt.base`, the semaphore address (0 for
//! none), each 8 bytes in a 64-bit ELF (4 in a 32-bit one), then `provider\0name\0args\0`.

use crate::elf::{ElfError, ElfFile, ElfMachine, Note, Notes};

use super::args::{ArgSpecError, UsdtArch, UsdtArg, parse_args_for};

const NOTE_SECTION: &str = ".note.stapsdt";
const BASE_SECTION: &str = ".stapsdt.base";
const NOTE_OWNER: &[u8] = b"stapsdt\0";
const NOTE_TYPE: u32 = 3;

/// Why a binary's USDT notes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsdtError {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("USDT note {index} (at {offset:#x} in {NOTE_SECTION}): {reason}")]
    BadNote {
        index: usize,
        offset: usize,
        reason: String,
    },
    #[error(
        "USDT {provider}:{name}: argument specs of this binary's architecture are not supported \
         (x86-64 and aarch64 are)"
    )]
    UnsupportedArch { provider: String, name: String },
    #[error("USDT {provider}:{name}: probe address {address:#x} is in no loadable segment")]
    NotInSegment {
        provider: String,
        name: String,
        address: u64,
    },
    #[error(
        "USDT {provider}:{name}: semaphore address {address:#x} is in no section with file contents"
    )]
    SemaphoreNotInSection {
        provider: String,
        name: String,
        address: u64,
    },
    #[error("USDT {provider}:{name}: argument spec `{spec}`")]
    BadArgs {
        provider: String,
        name: String,
        spec: String,
        #[source]
        source: Box<ArgSpecError>,
    },
}

/// One probe site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtNote {
    pub provider: String,
    pub name: String,
    /// The argument spec, as written (`-4@%eax 8@-16(%rbp)`).
    pub args: String,
    /// The probe's link-time virtual address, prelink-adjusted.
    pub address: u64,
    /// The probe's file offset, where a uprobe goes.
    pub file_offset: u64,
    /// The semaphore's link-time virtual address, if the probe has one.
    pub semaphore_address: Option<u64>,
    /// The semaphore's file offset (a uprobe's reference counter offset).
    pub semaphore_offset: Option<u64>,
    /// The binary's instruction set (`None`: one whose argument specs are not supported).
    pub arch: Option<UsdtArch>,
}

impl UsdtNote {
    /// The parsed arguments.
    pub fn parse_args(&self) -> Result<Vec<UsdtArg>, UsdtError> {
        let arch = self.arch.ok_or_else(|| UsdtError::UnsupportedArch {
            provider: self.provider.clone(),
            name: self.name.clone(),
        })?;
        parse_args_for(arch, &self.args).map_err(|source| UsdtError::BadArgs {
            provider: self.provider.clone(),
            name: self.name.clone(),
            spec: self.args.clone(),
            source: Box::new(source),
        })
    }
}

/// The raw fields of one note, before address translation.
#[derive(Debug)]
struct RawNote {
    pc: u64,
    base: u64,
    semaphore: u64,
    provider: String,
    name: String,
    args: String,
}

/// Every USDT probe in the ELF file `elf`, in note order; a binary without notes has none.
pub fn parse_notes(elf: &[u8]) -> Result<Vec<UsdtNote>, UsdtError> {
    let file = ElfFile::parse(elf)?;
    let Some(data) = file.section_data(NOTE_SECTION)? else {
        return Ok(Vec::new());
    };
    let raw = split_notes(data, file.is_64(), file.is_little_endian())?;
    let base_address = file.section_address(BASE_SECTION);
    let arch = match file.machine() {
        ElfMachine::X86_64 => Some(UsdtArch::X86_64),
        ElfMachine::Aarch64 => Some(UsdtArch::Aarch64),
        ElfMachine::Other => None,
    };
    raw.into_iter()
        .map(|note| translate(&file, base_address, arch, note))
        .collect()
}

fn translate(
    file: &ElfFile<'_>,
    base_address: Option<u64>,
    arch: Option<UsdtArch>,
    note: RawNote,
) -> Result<UsdtNote, UsdtError> {
    // Prelink moved the binary: shift by how far `.stapsdt.base` moved from where the note
    // recorded it.
    let shift = |address: u64| match base_address {
        Some(section) if note.base != 0 => address.wrapping_add(section.wrapping_sub(note.base)),
        _ => address,
    };
    let address = shift(note.pc);
    let file_offset =
        file.address_to_file_offset(address)
            .ok_or_else(|| UsdtError::NotInSegment {
                provider: note.provider.clone(),
                name: note.name.clone(),
                address,
            })?;
    let semaphore_address = (note.semaphore != 0).then(|| shift(note.semaphore));
    let semaphore_offset = semaphore_address
        .map(|address| {
            file.address_to_section_offset(address).ok_or_else(|| {
                UsdtError::SemaphoreNotInSection {
                    provider: note.provider.clone(),
                    name: note.name.clone(),
                    address,
                }
            })
        })
        .transpose()?;
    Ok(UsdtNote {
        provider: note.provider,
        name: note.name,
        args: note.args,
        address,
        file_offset,
        semaphore_address,
        semaphore_offset,
        arch,
    })
}

/// The USDT notes of the section (other owners' notes skipped), checked and split.
fn split_notes(data: &[u8], is_64: bool, little_endian: bool) -> Result<Vec<RawNote>, UsdtError> {
    let mut notes = Vec::new();
    for note in Notes::new(data, little_endian) {
        let note = note.map_err(|e| UsdtError::BadNote {
            index: e.index,
            offset: e.offset,
            reason: e.reason,
        })?;
        if note.name == NOTE_OWNER && note.note_type == NOTE_TYPE {
            notes.push(usdt_note(&note, is_64, little_endian)?);
        }
    }
    Ok(notes)
}

/// The descriptor of one USDT note: three addresses, then `provider\0name\0args\0`.
fn usdt_note(note: &Note<'_>, is_64: bool, little_endian: bool) -> Result<RawNote, UsdtError> {
    let bad = |reason: String| UsdtError::BadNote {
        index: note.index,
        offset: note.offset,
        reason,
    };
    let address_size = if is_64 { 8 } else { 4 };
    let address = |bytes: &[u8]| -> u64 {
        match (is_64, little_endian) {
            (true, true) => u64::from_le_bytes(bytes.try_into().unwrap_or_default()),
            (true, false) => u64::from_be_bytes(bytes.try_into().unwrap_or_default()),
            (false, true) => u32::from_le_bytes(bytes.try_into().unwrap_or_default()).into(),
            (false, false) => u32::from_be_bytes(bytes.try_into().unwrap_or_default()).into(),
        }
    };
    let desc = note.desc;
    let fixed = 3 * address_size;
    if desc.len() < fixed {
        return Err(bad(format!(
            "descriptor of {} bytes is shorter than its three addresses",
            desc.len()
        )));
    }
    let mut strings = desc[fixed..].split(|&b| b == 0);
    let mut text = |what: &str| -> Result<String, UsdtError> {
        let bytes = strings.next().unwrap_or_default();
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| bad(format!("{what} is not UTF-8")))
    };
    let provider = text("provider")?;
    let name = text("name")?;
    let args = text("argument spec")?;
    if !desc.ends_with(&[0]) {
        return Err(bad("descriptor strings are not NUL-terminated".to_owned()));
    }
    if provider.is_empty() || name.is_empty() {
        return Err(bad("empty provider or probe name".to_owned()));
    }
    Ok(RawNote {
        pc: address(&desc[0..address_size]),
        base: address(&desc[address_size..2 * address_size]),
        semaphore: address(&desc[2 * address_size..fixed]),
        provider,
        name,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::notes::test_note as note;

    fn desc(pc: u64, base: u64, sem: u64, strings: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        for v in [pc, base, sem] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(strings);
        d
    }

    #[test]
    fn notes_split_and_foreign_notes_skipped() {
        let mut data = note(b"GNU\0", 3, &[1, 2, 3, 4]);
        data.extend(note(
            NOTE_OWNER,
            3,
            &desc(0x1000, 0x2000, 0x3000, b"prov\0probe\0-4@%eax 8@$1\0"),
        ));
        data.extend(note(NOTE_OWNER, 3, &desc(0x1010, 0, 0, b"prov\0bare\0\0")));
        let notes = split_notes(&data, true, true).unwrap();
        assert_eq!(notes.len(), 2);
        assert_eq!(
            (notes[0].pc, notes[0].base, notes[0].semaphore),
            (0x1000, 0x2000, 0x3000)
        );
        assert_eq!(
            (&*notes[0].provider, &*notes[0].name, &*notes[0].args),
            ("prov", "probe", "-4@%eax 8@$1")
        );
        assert_eq!(notes[1].args, "");
        // 32-bit descriptors.
        let mut d32 = Vec::new();
        for v in [0x10u32, 0x20, 0] {
            d32.extend_from_slice(&v.to_le_bytes());
        }
        d32.extend_from_slice(b"a\0b\0\0");
        let notes = split_notes(&note(NOTE_OWNER, 3, &d32), false, true).unwrap();
        assert_eq!((notes[0].pc, notes[0].base), (0x10, 0x20));
    }

    #[test]
    fn malformed_notes_are_errors() {
        let good = note(NOTE_OWNER, 3, &desc(1, 2, 3, b"p\0n\0\0"));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..7].to_vec(), "truncated header"),
            (good[..good.len() - 4].to_vec(), "runs past"),
            (
                note(NOTE_OWNER, 3, &desc(1, 2, 3, b"p\0n\0args")),
                "NUL-terminated",
            ),
            (note(NOTE_OWNER, 3, &[0; 20]), "shorter"),
            (note(NOTE_OWNER, 3, &desc(1, 2, 3, b"\0n\0\0")), "empty"),
            (
                note(NOTE_OWNER, 3, &desc(1, 2, 3, b"p\xff\0n\0\0")),
                "UTF-8",
            ),
            (
                {
                    let mut huge = good.clone();
                    huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
                    huge
                },
                "past",
            ),
        ];
        for (data, needle) in cases {
            let err = split_notes(&data, true, true).unwrap_err();
            assert!(err.to_string().contains(needle), "{needle}: {err}");
            assert!(matches!(err, UsdtError::BadNote { index: 0, .. }));
        }
    }

    /// A minimal 64-bit ELF: one PT_LOAD mapping file offsets 0..0x200 at 0x10000, `.text` at
    /// 0x10100, `.probes` (semaphores) at 0x10110, `.stapsdt.base` at 0x10112, then `notes`.
    fn elf(notes: &[u8]) -> Vec<u8> {
        const VADDR: u64 = 0x10000;
        let mut out = vec![0u8; 0x200];
        let notes_at = out.len() as u64;
        out.extend_from_slice(notes);
        let shstrtab = b"\0.text\0.probes\0.stapsdt.base\0.note.stapsdt\0.shstrtab\0";
        let shstrtab_at = out.len() as u64;
        out.extend_from_slice(shstrtab);
        out.resize(out.len().next_multiple_of(8), 0);
        let shoff = out.len() as u64;
        // (name offset, type, flags, addr, offset, size)
        let sections: [(u32, u32, u64, u64, u64, u64); 6] = [
            (0, 0, 0, 0, 0, 0),
            (1, 1, 6, VADDR + 0x100, 0x100, 0x10),
            (7, 1, 3, VADDR + 0x110, 0x110, 2),
            (15, 1, 3, VADDR + 0x112, 0x112, 1),
            (29, 7, 0, 0, notes_at, notes.len() as u64),
            (43, 3, 0, 0, shstrtab_at, shstrtab.len() as u64),
        ];
        for (name, kind, flags, addr, offset, size) in sections {
            out.extend_from_slice(&name.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            for v in [flags, addr, offset, size] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&[0; 8]); // link, info
            out.extend_from_slice(&1u64.to_le_bytes()); // addralign
            out.extend_from_slice(&0u64.to_le_bytes()); // entsize
        }
        let mut header = vec![0x7f, b'E', b'L', b'F', 2, 1, 1];
        header.resize(16, 0);
        header.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
        header.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        header.extend_from_slice(&1u32.to_le_bytes());
        for v in [0u64, 64, shoff] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&0u32.to_le_bytes());
        for v in [64u16, 56, 1, 64, 6, 5] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        // PT_LOAD, R+X, offset 0, vaddr = paddr = VADDR, filesz = memsz = 0x200.
        header.extend_from_slice(&1u32.to_le_bytes());
        header.extend_from_slice(&5u32.to_le_bytes());
        for v in [0, VADDR, VADDR, 0x200, 0x200, 0x1000] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        out[..header.len()].copy_from_slice(&header);
        out
    }

    #[test]
    fn addresses_become_file_offsets_with_prelink_adjustment() {
        let base = 0x10112;
        let mut notes = note(
            NOTE_OWNER,
            3,
            &desc(0x10104, base, 0x10110, b"p\0sem\08@%rdi\0"),
        );
        // Recorded before a prelink moved the binary up by 0x1000.
        notes.extend(note(
            NOTE_OWNER,
            3,
            &desc(0xf108, base - 0x1000, 0xf111, b"p\0moved\0\0"),
        ));
        // Base 0: no adjustment.
        notes.extend(note(NOTE_OWNER, 3, &desc(0x1010c, 0, 0, b"p\0plain\0\0")));
        let parsed = parse_notes(&elf(&notes)).unwrap();
        let summary: Vec<_> = parsed
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.address,
                    n.file_offset,
                    n.semaphore_address,
                    n.semaphore_offset,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("sem", 0x10104, 0x104, Some(0x10110), Some(0x110)),
                ("moved", 0x10108, 0x108, Some(0x10111), Some(0x111)),
                ("plain", 0x1010c, 0x10c, None, None),
            ]
        );
        assert_eq!(parsed[0].parse_args().unwrap().len(), 1);
        assert!(parse_notes(&elf(&[])).unwrap().is_empty());
    }

    #[test]
    fn addresses_outside_the_binary_are_errors() {
        let outside = note(NOTE_OWNER, 3, &desc(0x90000, 0, 0, b"p\0far\0\0"));
        assert_eq!(
            parse_notes(&elf(&outside)),
            Err(UsdtError::NotInSegment {
                provider: "p".into(),
                name: "far".into(),
                address: 0x90000
            })
        );
        let no_sem = note(NOTE_OWNER, 3, &desc(0x10100, 0, 0x10180, b"p\0sem\0\0"));
        assert!(matches!(
            parse_notes(&elf(&no_sem)),
            Err(UsdtError::SemaphoreNotInSection {
                address: 0x10180,
                ..
            })
        ));
        let bad_args = note(NOTE_OWNER, 3, &desc(0x10100, 0, 0, b"p\0n\x004@%xmm1\0"));
        let err = parse_notes(&elf(&bad_args)).unwrap()[0]
            .parse_args()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("p:n") && text.contains("4@%xmm1"), "{text}");
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let seed = note(NOTE_OWNER, 3, &desc(1, 2, 3, b"p\0n\0-4@%eax\0"));
        for round in 0..20_000 {
            let mut data = seed.clone();
            for _ in 0..(round % 6 + 1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % data.len() as u64) as usize;
                data[at] = (state >> 32) as u8;
            }
            let cut = (state >> 40) as usize % (data.len() + 1);
            let _ = split_notes(&data[..cut], round % 2 == 0, true);
            let _ = parse_notes(&data[..cut]);
        }
        assert!(matches!(parse_notes(b"not an elf"), Err(UsdtError::Elf(_))));
    }
}
