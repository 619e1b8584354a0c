//! Malformed objects (real objects with bytes mutated) give typed errors, never panics.

use bpf_core::obj::{Object, ParseError};
use bpf_core::relocation::{Bindings, MapReference, RelocationErrorKind};

const MAPS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_maps.bpf.o");
const GLOBALS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_globals.bpf.o");
const CALLS: &[u8] = include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o");
const PROGRAMS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_programs.bpf.o");

fn u16_at(d: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(d[o..o + 2].try_into().unwrap())
}
fn u32_at(d: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(d[o..o + 4].try_into().unwrap())
}
fn u64_at(d: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(d[o..o + 8].try_into().unwrap())
}
fn put_u16(d: &mut [u8], o: usize, v: u16) {
    d[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(d: &mut [u8], o: usize, v: u32) {
    d[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(d: &mut [u8], o: usize, v: u64) {
    d[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// Section header facts the tests mutate: (header offset, name, type, data offset, size, info).
struct Shdr {
    at: usize,
    name: String,
    sh_type: u32,
    offset: usize,
    size: usize,
    info: u32,
}

fn sections(d: &[u8]) -> Vec<Shdr> {
    let shoff = u64_at(d, 0x28) as usize;
    let shentsize = u16_at(d, 0x3a) as usize;
    let shnum = u16_at(d, 0x3c) as usize;
    let shstrndx = u16_at(d, 0x3e) as usize;
    let strtab = u64_at(d, shoff + shstrndx * shentsize + 0x18) as usize;
    (0..shnum)
        .map(|i| {
            let at = shoff + i * shentsize;
            let name_off = strtab + u32_at(d, at) as usize;
            let end = d[name_off..].iter().position(|&b| b == 0).unwrap();
            Shdr {
                at,
                name: String::from_utf8(d[name_off..name_off + end].to_vec()).unwrap(),
                sh_type: u32_at(d, at + 4),
                offset: u64_at(d, at + 0x18) as usize,
                size: u64_at(d, at + 0x20) as usize,
                info: u32_at(d, at + 0x2c),
            }
        })
        .collect()
}

fn section<'a>(all: &'a [Shdr], name: &str) -> &'a Shdr {
    all.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("test object lacks {name}"))
}

fn all_bindings(object: &Object) -> Bindings {
    let mut bindings = Bindings {
        core_target: object
            .btf
            .clone()
            .map(bpf_core::btf::core::CoreTarget::from_btf),
        ..Bindings::default()
    };
    for (i, map) in object.maps.iter().enumerate() {
        bindings
            .maps
            .insert(map.name.clone(), MapReference::Fd(10 + i as i32));
    }
    bindings
}

#[test]
fn truncated_objects_are_errors() {
    for len in [
        0,
        4,
        15,
        16,
        40,
        63,
        64,
        65,
        200,
        MAPS.len() / 2,
        MAPS.len() - 1,
    ] {
        let result = Object::parse(&MAPS[..len]);
        assert!(result.is_err(), "truncated to {len} bytes parsed");
    }
    assert!(
        matches!(Object::parse(&MAPS[..10]), Err(ParseError::Elf(m)) if m.contains("truncated"))
    );
}

#[test]
fn wrong_class_endianness_machine() {
    let mut d = MAPS.to_vec();
    d[4] = 1;
    assert!(matches!(
        Object::parse(&d),
        Err(ParseError::WrongClass { class: 1 })
    ));
    let mut d = MAPS.to_vec();
    d[5] = 2;
    assert!(matches!(
        Object::parse(&d),
        Err(ParseError::WrongEndianness { encoding: 2 })
    ));
    let mut d = MAPS.to_vec();
    put_u16(&mut d, 18, 62);
    let err = Object::parse(&d).unwrap_err();
    assert!(matches!(err, ParseError::WrongMachine { machine: 62 }));
    assert!(err.to_string().contains("62"));
    let mut d = MAPS.to_vec();
    d[0] = b'X';
    assert!(matches!(Object::parse(&d), Err(ParseError::Elf(_))));
}

#[test]
fn section_headers_out_of_file() {
    let mut d = MAPS.to_vec();
    let near_end = d.len() as u64 - 10;
    put_u64(&mut d, 0x28, near_end);
    assert!(matches!(Object::parse(&d), Err(ParseError::Elf(_))));
    let mut d = MAPS.to_vec();
    let all = sections(&d);
    let maps = section(&all, "maps");
    put_u64(&mut d, maps.at + 0x18, 1 << 40);
    let err = Object::parse(&d).unwrap_err();
    assert!(matches!(err, ParseError::Section { .. }), "{err}");
    assert!(err.to_string().contains("maps"), "{err}");
}

/// Offset in the symbol table of the symbol called `name`.
fn symbol_entry(d: &[u8], name: &str) -> usize {
    let all = sections(d);
    let symtab = section(&all, ".symtab");
    let strtab = section(&all, ".strtab");
    (0..symtab.size / 24)
        .map(|i| symtab.offset + i * 24)
        .find(|&at| {
            let off = strtab.offset + u32_at(d, at) as usize;
            d[off..].starts_with(name.as_bytes()) && d[off + name.len()] == 0
        })
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

#[test]
fn symbol_with_bad_section_index() {
    let mut d = MAPS.to_vec();
    let at = symbol_entry(&d, "btf_hash");
    put_u16(&mut d, at + 6, 0x7000);
    let err = Object::parse(&d).unwrap_err();
    assert!(matches!(err, ParseError::Symbol { .. }), "{err}");
    assert!(
        err.to_string().contains("btf_hash") && err.to_string().contains("28672"),
        "{err}"
    );
}

#[test]
fn function_symbol_past_section_end() {
    let mut d = CALLS.to_vec();
    let at = symbol_entry(&d, "leaf");
    put_u64(&mut d, at + 16, 4096);
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::FunctionBounds { name, .. } if name == "leaf"),
        "{err}"
    );
}

fn rel_entry(d: &[u8], rel_section: &str, index: usize) -> usize {
    let all = sections(d);
    let rel = section(&all, rel_section);
    assert!(index < rel.size / 16);
    rel.offset + index * 16
}

#[test]
fn relocation_symbol_out_of_range() {
    let mut d = MAPS.to_vec();
    let at = rel_entry(&d, ".relsocket", 0);
    let info = u64_at(&d, at + 8);
    put_u64(&mut d, at + 8, (0xffff << 32) | (info & 0xffff_ffff));
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::RelocationSymbol { section, symbol: 0xffff, entry: 0, .. } if section == ".relsocket"),
        "{err}"
    );
}

#[test]
fn relocation_outside_any_function() {
    let mut d = MAPS.to_vec();
    let at = rel_entry(&d, ".relsocket", 0);
    put_u64(&mut d, at, 0x10_0000);
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::RelocationOutsideFunction { section, offset: 0x10_0000, symbol } if section == "socket" && symbol == "legacy_hash"),
        "{err}"
    );
    // Misaligned offsets are outside too.
    let mut d = MAPS.to_vec();
    let offset = u64_at(&d, at);
    put_u64(&mut d, at, offset + 3);
    assert!(matches!(
        Object::parse(&d),
        Err(ParseError::RelocationOutsideFunction { .. })
    ));
}

#[test]
fn relocation_into_middle_of_ld_imm64() {
    let mut d = MAPS.to_vec();
    let at = rel_entry(&d, ".relsocket", 0);
    let offset = u64_at(&d, at);
    put_u64(&mut d, at, offset + 8);
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::RelocationInsideLdImm64 { symbol, .. } if symbol == "legacy_hash"),
        "{err}"
    );
}

#[test]
fn relocation_on_wrong_instruction_names_program_insn_and_symbol() {
    let mut d = MAPS.to_vec();
    let at = rel_entry(&d, ".relsocket", 0);
    let offset = u64_at(&d, at);
    // The instruction before the map load is an ordinary one.
    put_u64(&mut d, at, offset - 8);
    let object = Object::parse(&d).unwrap();
    let err = object
        .relocate("use_maps", &all_bindings(&object))
        .unwrap_err();
    assert_eq!(err.program, "use_maps");
    assert_eq!(err.symbol, "legacy_hash");
    assert_eq!(err.insn, (offset as usize - 8) / 8 - 4);
    assert!(
        matches!(err.kind, RelocationErrorKind::BadInstruction { .. }),
        "{err}"
    );
    // Other programs of the object are unaffected.
    assert!(object.relocate("tail_one", &all_bindings(&object)).is_ok());
}

#[test]
fn maps_section_with_bad_size() {
    let mut d = MAPS.to_vec();
    let all = sections(&d);
    let maps = section(&all, "maps");
    put_u64(&mut d, maps.at + 0x20, maps.size as u64 - 1);
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::MapsSectionSize { section, symbols: 2, .. } if section == "maps"),
        "{err}"
    );
    put_u64(&mut d, maps.at + 0x20, 8);
    assert!(matches!(
        Object::parse(&d),
        Err(ParseError::MapsSectionSize { size: 8, .. })
    ));
}

#[test]
fn code_section_not_whole_instructions() {
    let mut d = CALLS.to_vec();
    let all = sections(&d);
    let text = section(&all, ".text");
    put_u64(&mut d, text.at + 0x20, text.size as u64 - 4);
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::CodeSize { section, .. } if section == ".text"),
        "{err}"
    );
}

#[test]
fn relocation_section_for_missing_section() {
    let mut d = CALLS.to_vec();
    let all = sections(&d);
    let rel = all.iter().find(|s| s.sh_type == 9).unwrap();
    put_u32(&mut d, rel.at + 0x2c, 999);
    let err = Object::parse(&d).unwrap_err();
    assert!(matches!(err, ParseError::Section { .. }), "{err}");
    assert!(err.to_string().contains("999"), "{err}");
    let _ = rel.info;
}

#[test]
fn version_section_of_wrong_size() {
    let mut d = PROGRAMS.to_vec();
    let all = sections(&d);
    let version = section(&all, "version");
    put_u64(&mut d, version.at + 0x20, 2);
    assert!(matches!(
        Object::parse(&d),
        Err(ParseError::Version { size: 2 })
    ));
}

#[test]
fn call_into_the_middle_of_a_function() {
    let mut d = CALLS.to_vec();
    let all = sections(&d);
    let text = section(&all, "xdp");
    // entry_leaf_only's call is in `tc`; entry_calls calls `middle` (.text + imm) at insn 6 of xdp.
    let call = text.offset + 6 * 8;
    assert_eq!(d[call], 0x85);
    let imm = u32_at(&d, call + 4);
    put_u32(&mut d, call + 4, imm + 1);
    let object = Object::parse(&d).unwrap();
    let err = object
        .relocate("entry_calls", &all_bindings(&object))
        .unwrap_err();
    assert_eq!(
        (err.function.as_str(), err.insn, err.symbol.as_str()),
        ("entry_calls", 6, ".text")
    );
    assert!(
        matches!(err.kind, RelocationErrorKind::CallTarget { .. }),
        "{err}"
    );
}

/// Every single-byte corruption of real objects parses or fails cleanly, and relocation of
/// whatever parsed never panics.
#[test]
fn byte_corruptions_never_panic() {
    for object in [GLOBALS, CALLS] {
        for position in 0..object.len() {
            for value in [object[position] ^ 0xff] {
                let mut d = object.to_vec();
                d[position] = value;
                if let Ok(parsed) = Object::parse(&d) {
                    let bindings = all_bindings(&parsed);
                    for program in &parsed.programs {
                        let _ = parsed.relocate(&program.name, &bindings);
                    }
                }
            }
        }
    }
}

#[test]
fn broken_btf_is_an_error_when_maps_need_it() {
    let mut d = MAPS.to_vec();
    let all = sections(&d);
    let btf = section(&all, ".BTF");
    d[btf.offset] = 0;
    let err = Object::parse(&d).unwrap_err();
    assert!(matches!(err, ParseError::InvalidBtf(_)), "{err}");
    // Without BTF-defined maps, a broken .BTF only loses BTF.
    let mut d = include_bytes!("../../tests/bpf/obj/parse_iproute2.bpf.o").to_vec();
    let all = sections(&d);
    let btf = section(&all, ".BTF");
    d[btf.offset] = 0;
    let object = Object::parse(&d).unwrap();
    assert!(object.btf.is_none());
    assert!(object.map("counters").is_some());
}

#[test]
fn btf_map_without_its_symbol() {
    // Point btf_hash's ELF symbol away: the BTF variable then has no symbol.
    let mut d = MAPS.to_vec();
    let at = symbol_entry(&d, "btf_hash");
    let strtab_name = u32_at(&d, at);
    let other = symbol_entry(&d, "outer");
    put_u32(&mut d, other, strtab_name);
    let _ = Object::parse(&d); // duplicate names must not panic
    let mut d = MAPS.to_vec();
    put_u16(&mut d, at + 6, 0); // btf_hash becomes undefined (an extern)
    let err = Object::parse(&d).unwrap_err();
    assert!(
        matches!(&err, ParseError::Map { map, .. } if map == "btf_hash"),
        "{err}"
    );
}
