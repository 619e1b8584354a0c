use super::*;

/// A section as bpf_log.h lays it out: header, then descriptors back to back.
fn section(sites: &[(u8, &[u8], &str, &str)]) -> LogSection {
    let mut data = b"BPFLOG\x01\x00".to_vec();
    data.extend_from_slice(&16u32.to_ne_bytes());
    data.extend_from_slice(&8u32.to_ne_bytes());
    let mut symbols = Vec::new();
    for (n, (level, kinds, format, function)) in sites.iter().enumerate() {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!(".{n}")
        };
        symbols.push((
            data.len() as u64,
            format!("{function}.__bpf_log_site{suffix}"),
        ));
        data.push(*level);
        data.push(kinds.len() as u8);
        let mut k = [0u8; 12];
        k[..kinds.len()].copy_from_slice(kinds);
        data.extend_from_slice(&k);
        data.extend_from_slice(format.as_bytes());
        data.push(0);
    }
    LogSection { data, symbols }
}

fn record(site: u32, slots: &[Vec<u8>]) -> Vec<u8> {
    let mut r = u64::from(site).to_ne_bytes().to_vec();
    for s in slots {
        r.extend_from_slice(s);
    }
    r
}

fn word(v: u64) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn string_slot(status: i64, text: &[u8], max: usize) -> Vec<u8> {
    let mut s = status.to_ne_bytes().to_vec();
    let mut data = vec![0u8; max];
    data[..text.len()].copy_from_slice(text);
    s.extend_from_slice(&data);
    s
}

#[test]
fn formats_integers_with_their_c_width_and_sign() {
    let sites = LogSites::parse(&section(&[(
        3,
        &[3, 7, 1, 4],
        "a=%d b=%u c=%d d=%ld x=%x",
        "prog",
    )]))
    .unwrap_err();
    // Five conversions, four arguments.
    assert!(
        matches!(&sites, LogSectionError::Site { function, reason, .. }
            if function == "prog" && reason.contains("5 conversions but 4 arguments")),
        "{sites}"
    );

    let sites = LogSites::parse(&section(&[(
        3,
        &[3, 7, 1, 4],
        "a=%d b=%u c=%d d=%ld",
        "prog",
    )]))
    .unwrap();
    let site = sites.sites().next().unwrap();
    assert_eq!(site.level, LogLevel::Info);
    assert_eq!(site.function, "prog");
    assert_eq!(site.record_len(), 8 + 4 * 8);
    let r = record(
        site.offset,
        &[
            word(0xffff_fffb),  // (int)-5, zero-extended by the BPF side
            word(0xffff_ffff),  // UINT_MAX
            word(0x80),         // (char)-128
            word(-7i64 as u64), // -7L
        ],
    );
    let mut out = String::new();
    let got = sites.format_record(&r, &mut out).unwrap();
    assert_eq!(got.function, "prog");
    assert_eq!(out, "a=-5 b=4294967295 c=-128 d=-7");
}

#[test]
fn formats_strings_faults_and_network_helpers() {
    let sites = LogSites::parse(&section(&[
        (1, &[10, 11], "k=%s u=%s", "f"),
        (2, &[12, 13, 14, 15], "%pI4 %pI6 %pM %ph", "g"),
    ]))
    .unwrap();
    let mut by_function: Vec<&LogSite> = sites.sites().collect();
    by_function.sort_by_key(|s| s.offset);
    let (f, g) = (by_function[0], by_function[1]);
    assert_eq!(f.record_len(), 8 + 2 * (8 + 16));
    let r = record(
        f.offset,
        &[string_slot(4, b"abc\0", 16), string_slot(-14, b"", 16)],
    );
    let mut out = String::new();
    sites.format_record(&r, &mut out).unwrap();
    assert_eq!(out, "k=abc u=<fault -14>");

    let mut v6 = string_slot(0, &[0x20, 0x01, 0x0d, 0xb8], 16);
    v6[8 + 15] = 1;
    let r = record(
        g.offset,
        &[
            word(u64::from(u32::from_ne_bytes([10, 0, 0, 1]))),
            v6,
            string_slot(0, &[2, 0, 0x5e, 0x10, 0x20, 0xff, 0, 0], 8),
            string_slot(3, &[0xde, 0xad, 0xbe], 8),
        ],
    );
    sites.format_record(&r, &mut out).unwrap();
    assert_eq!(out, "10.0.0.1 2001:db8::1 02:00:5e:10:20:ff de ad be");
}

#[test]
fn refuses_mismatched_kinds_bad_headers_and_bad_records() {
    let e = LogSites::parse(&section(&[(4, &[3], "%s", "h")])).unwrap_err();
    assert!(
        e.to_string()
            .contains("argument 1 is an int, which %s cannot print"),
        "{e}"
    );
    assert!(e.to_string().contains("`h`"), "{e}");
    let e = LogSites::parse(&section(&[(9, &[], "x", "h")])).unwrap_err();
    assert!(
        matches!(e, LogSectionError::Malformed { offset: 16, .. }),
        "{e}"
    );
    let mut bad = section(&[]);
    bad.data[0] = b'X';
    assert_eq!(LogSites::parse(&bad).unwrap_err(), LogSectionError::Header);
    assert_eq!(
        LogSites::parse(&LogSection::default()).unwrap_err(),
        LogSectionError::Header
    );

    let sites = LogSites::parse(&section(&[(5, &[8], "%llx", "t")])).unwrap();
    let site = sites.sites().next().unwrap().offset;
    let mut out = String::new();
    assert_eq!(
        sites.format_record(&[1, 2], &mut out).unwrap_err(),
        RecordError::Short { len: 2 }
    );
    assert!(matches!(
        sites
            .format_record(&record(999, &[]), &mut out)
            .unwrap_err(),
        RecordError::UnknownSite { offset: 999 }
    ));
    let e = sites
        .format_record(&record(site, &[]), &mut out)
        .unwrap_err();
    assert!(e.to_string().contains("`t`"), "{e}");
    sites
        .format_record(&record(site, &[word(0x1122_3344_5566_7788)]), &mut out)
        .unwrap();
    assert_eq!(out, "1122334455667788");
}

#[test]
fn hostile_sections_never_panic() {
    let base = section(&[(3, &[10, 15, 13], "%s %ph %pI6", "x")]).data;
    for cut in 0..base.len() {
        let _ = LogSites::parse(&LogSection {
            data: base[..cut].to_vec(),
            symbols: vec![],
        });
    }
    for i in 16..base.len() {
        for v in [0u8, 1, 12, 0xff] {
            let mut data = base.clone();
            data[i] = v;
            if let Ok(sites) = LogSites::parse(&LogSection {
                data,
                symbols: vec![],
            }) {
                for site in sites.sites() {
                    let mut r = vec![0xffu8; site.record_len()];
                    r[..8].copy_from_slice(&u64::from(site.offset).to_ne_bytes());
                    let _ = sites.format_record(&r, &mut String::new());
                }
            }
        }
    }
}

#[test]
fn parses_flags_width_precision_and_every_conversion() {
    let pieces = parse_format("a%%b %-08.3lu|%pI4%pI6%pM%ph%p%pIx%c%#X%+ d").unwrap();
    let spec = |conversion| Spec {
        conversion,
        left: false,
        zero: false,
        plus: false,
        space: false,
        alternate: false,
        width: 0,
        precision: None,
    };
    assert_eq!(
        pieces,
        vec![
            Piece::Literal("a%b ".into()),
            Piece::Spec(Spec {
                left: true,
                zero: true,
                width: 8,
                precision: Some(3),
                ..spec(Conversion::Unsigned)
            }),
            Piece::Literal("|".into()),
            Piece::Spec(spec(Conversion::Ipv4)),
            Piece::Spec(spec(Conversion::Ipv6)),
            Piece::Spec(spec(Conversion::Mac)),
            Piece::Spec(spec(Conversion::Hex)),
            Piece::Spec(spec(Conversion::Pointer)),
            Piece::Spec(spec(Conversion::Pointer)),
            Piece::Literal("Ix".into()),
            Piece::Spec(spec(Conversion::Char)),
            Piece::Spec(Spec {
                alternate: true,
                ..spec(Conversion::UpperHex)
            }),
            Piece::Spec(Spec {
                plus: true,
                space: true,
                ..spec(Conversion::Signed)
            }),
        ]
    );
}

#[test]
fn refuses_bad_conversions_where_they_start() {
    let error = |format: &str| parse_format(format).unwrap_err().to_string();
    assert_eq!(error("ab %5q"), "at byte 3: unsupported conversion `%5q`");
    assert_eq!(error("%é"), "at byte 0: unsupported conversion `%é`");
    assert_eq!(
        error("x %-"),
        "at byte 2: the format ends inside a conversion"
    );
    assert_eq!(error("%99999d"), "at byte 4: width is too large");
    assert_eq!(error("%.99999s"), "at byte 5: precision is too large");
}
