//! Malformed BTF and `.BTF.ext` yield typed errors, never panics or unbounded recursion.

use bpf_core::btf::core::{CoreTarget, relocate};
use bpf_core::btf::{Btf, BtfError, BtfExt, BtfFeatures, CoreRelo, CoreReloKind, TypeKind};
use bpf_sys::generated::bpf_insn;

/// Assembles a BTF blob from `(name_off, info, size_or_type, extra words)` records and a string table.
fn blob(types: &[(u32, u32, u32, &[u32])], strings: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    for (name, info, size, extra) in types {
        for w in [*name, *info, *size].iter().chain(extra.iter()) {
            t.extend_from_slice(&w.to_le_bytes());
        }
    }
    let mut out = vec![0x9f, 0xeb, 1, 0];
    for w in [
        24u32,
        0,
        t.len() as u32,
        t.len() as u32,
        strings.len() as u32,
    ] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&t);
    out.extend_from_slice(strings);
    out
}

const fn info(kind: u32, vlen: u32) -> u32 {
    (kind << 24) | vlen
}
const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const TYPEDEF: u32 = 8;

#[test]
fn truncated_and_bad_headers() {
    assert!(matches!(Btf::parse(&[]), Err(BtfError::Truncated { .. })));
    assert!(matches!(
        Btf::parse(&[0x9f, 0xeb, 1, 0, 24, 0]),
        Err(BtfError::Truncated { .. })
    ));
    let good = blob(&[(1, info(INT, 0), 4, &[32])], b"\0int\0");
    Btf::parse(&good).unwrap();
    let mut bad = good.clone();
    bad[0] = 0;
    assert!(matches!(Btf::parse(&bad), Err(BtfError::BadMagic(_))));
    let mut be = good.clone();
    be.swap(0, 1);
    assert_eq!(Btf::parse(&be).unwrap_err(), BtfError::BigEndian);
    let mut ver = good.clone();
    ver[2] = 2;
    assert_eq!(Btf::parse(&ver).unwrap_err(), BtfError::BadVersion(2));
    let mut hdr = good.clone();
    hdr[4..8].copy_from_slice(&10_000u32.to_le_bytes());
    assert!(matches!(Btf::parse(&hdr), Err(BtfError::BadHeader(_))));
    let mut types_past = good.clone();
    types_past[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Btf::parse(&types_past).is_err());
    // Cut inside the string table.
    assert!(Btf::parse(&good[..good.len() - 2]).is_err());
    let unterminated = blob(&[], b"\0abc");
    assert!(matches!(
        Btf::parse(&unterminated),
        Err(BtfError::BadHeader(_))
    ));
}

#[test]
fn unknown_kind_and_absurd_vlen() {
    let unknown = blob(&[(0, info(25, 0), 0, &[])], b"\0");
    assert!(matches!(
        Btf::parse(&unknown),
        Err(BtfError::UnknownKind { id: 1, kind: 25 })
    ));
    // A struct claiming 65535 members with none present.
    let absurd = blob(&[(0, info(STRUCT, 0xffff), 8, &[])], b"\0");
    assert!(matches!(
        Btf::parse(&absurd),
        Err(BtfError::Truncated { .. })
    ));
}

#[test]
fn ids_and_strings_out_of_range() {
    let btf = Btf::parse(&blob(
        &[
            (1, info(PTR, 0), 99, &[]),
            (1000, info(TYPEDEF, 0), 99, &[]),
            (0, info(STRUCT, 1), 4, &[500, 1, 0]),
        ],
        b"\0p\0",
    ))
    .unwrap();
    assert!(matches!(
        btf.type_by_id(99),
        Err(BtfError::TypeIdOutOfRange { id: 99, .. })
    ));
    assert!(matches!(
        btf.type_by_id(2),
        Err(BtfError::StringOffsetOutOfRange(1000))
    ));
    assert!(matches!(
        btf.resolve(2),
        Err(BtfError::TypeIdOutOfRange { .. })
    ));
    assert!(matches!(
        btf.string_at(4),
        Err(BtfError::StringOffsetOutOfRange(4))
    ));
    let TypeKind::Struct(s) = btf.type_by_id(3).unwrap().kind else {
        panic!()
    };
    assert!(matches!(
        s.member(0),
        Err(BtfError::StringOffsetOutOfRange(500))
    ));
    assert!(s.member(1).is_err());
    assert_eq!(
        btf.type_size(1).unwrap(),
        8,
        "pointer size does not need the pointee"
    );
}

#[test]
fn reference_loops_are_errors() {
    let btf = Btf::parse(&blob(
        &[
            (1, info(TYPEDEF, 0), 2, &[]),
            (1, info(TYPEDEF, 0), 1, &[]),
            (0, info(ARRAY, 0), 0, &[3, 3, 4]),
            (3, info(STRUCT, 1), 8, &[5, 4, 0]),
        ],
        b"\0a\0s\0",
    ))
    .unwrap();
    assert!(matches!(
        btf.resolve(1),
        Err(BtfError::ReferenceLoop { .. })
    ));
    assert!(matches!(
        btf.type_size(1),
        Err(BtfError::ReferenceLoop { .. })
    ));
    assert!(matches!(
        btf.type_size(3),
        Err(BtfError::ReferenceLoop { .. } | BtfError::SizeOverflow { .. })
    ));
    assert!(btf.type_align(4).is_err());
    assert!(btf.type_align(1).is_err());
    // CO-RE over a self-containing struct against itself: typed error or a result, no overflow.
    let target = CoreTarget::from_btf(btf.clone());
    let mut with_strings = btf.clone();
    let access = with_strings.add_string("0:0:0:0");
    let relo = CoreRelo {
        insn_off: 0,
        type_id: 4,
        access_str_off: access,
        kind: CoreReloKind::FieldByteOffset,
    };
    let mut insns = [bpf_insn {
        code: 0x61,
        ..Default::default()
    }];
    assert!(relocate(&mut insns, &[relo], &with_strings, &target).is_err());
    let relo = CoreRelo {
        kind: CoreReloKind::TypeMatches,
        access_str_off: with_strings.add_string("0"),
        ..relo
    };
    let mut insns = [bpf_insn {
        code: 0xb7,
        ..Default::default()
    }];
    let _ = relocate(&mut insns, &[relo], &with_strings, &target);
}

#[test]
fn sanitize_and_fixups_on_hostile_input_do_not_panic() {
    // DATASEC whose entry points at a non-VAR, and a VAR id past the end.
    let mut btf = Btf::parse(&blob(
        &[
            (1, info(INT, 0), 4, &[32]),
            (5, info(15, 2), 0, &[1, 0, 4, 77, 4, 4]),
        ],
        b"\0int\0.data\0",
    ))
    .unwrap();
    assert!(matches!(
        btf.fixup_datasecs(|_| Some(8), |_| None),
        Err(BtfError::Datasec { .. })
    ));
    assert!(matches!(
        btf.sanitize(&BtfFeatures::none()),
        Err(BtfError::TypeIdOutOfRange { id: 77, .. })
    ));
    Btf::parse(&btf.to_bytes()).unwrap();
}

#[test]
fn malformed_btf_ext() {
    let btf = Btf::parse(&blob(&[], b"\0sec\0")).unwrap();
    assert!(BtfExt::parse(&[], &btf).is_err());
    let mut ext = vec![0x9f, 0xeb, 1, 0];
    for w in [32u32, 0, 12, 12, 0, 12, 0] {
        ext.extend_from_slice(&w.to_le_bytes());
    }
    // func_info: rec_size 8, section "sec" with an absurd record count.
    for w in [8u32, 1, 0x4000_0000] {
        ext.extend_from_slice(&w.to_le_bytes());
    }
    assert!(matches!(
        BtfExt::parse(&ext, &btf),
        Err(BtfError::BadExt(_))
    ));
    // Subsection offsets past the end.
    let mut past = ext.clone();
    past[8..12].copy_from_slice(&1000u32.to_le_bytes());
    assert!(matches!(
        BtfExt::parse(&past, &btf),
        Err(BtfError::BadExt(_))
    ));
    // A count of 1 fits; an unknown section name offset does not.
    let mut ok = ext.clone();
    let at = ok.len() - 4;
    ok[at..].copy_from_slice(&0u32.to_le_bytes());
    let parsed = BtfExt::parse(&ok, &btf).unwrap();
    assert_eq!(parsed.func_info[0].name, "sec");
    let mut bad_name = ok.clone();
    bad_name[36..40].copy_from_slice(&999u32.to_le_bytes());
    assert!(matches!(
        BtfExt::parse(&bad_name, &btf),
        Err(BtfError::StringOffsetOutOfRange(999))
    ));
}
