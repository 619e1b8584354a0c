use super::*;
use crate::btf::test_builder::BtfBuilder;

fn generate(btf: &Btf, roots: &[u32], options: RustTypesOptions) -> String {
    let mut out = String::new();
    write_rust_types(btf, roots, &mut out, &options).unwrap();
    out
}

fn struct_body<'a>(code: &'a str, name: &str) -> &'a str {
    let start = code
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("no struct {name} in\n{code}"));
    let end = code[start..].find("\n}").unwrap() + start;
    &code[start..end]
}

#[test]
fn padding_is_explicit_and_layout_asserted() {
    let mut b = BtfBuilder::new();
    let u8_ = b.int("unsigned char", 1, false);
    let u64_ = b.int("unsigned long", 8, false);
    let s = b.structure(
        "gap",
        24,
        &[("a", u8_, 0, 0), ("b", u64_, 64, 0), ("c", u8_, 128, 0)],
    );
    let code = generate(&b.build(), &[s], RustTypesOptions::default());
    assert_eq!(
        struct_body(&code, "gap"),
        "pub struct gap {\n    pub a: u8,\n    pub _pad_1: [u8; 7],\n    pub b: u64,\n    pub c: u8,\n    pub _pad_2: [u8; 7],"
    );
    assert!(code.contains("const _: () = assert!(::core::mem::size_of::<gap>() == 24);"));
    assert!(code.contains("const _: () = assert!(::core::mem::offset_of!(gap, b) == 8);"));
    assert!(code.contains("#[repr(C)]\n#[derive(Clone, Copy, Debug, ::zerocopy::FromBytes, ::zerocopy::IntoBytes, ::zerocopy::Immutable, ::zerocopy::KnownLayout)]"));
    assert!(!code.contains("#[zerocopy(crate"));
}

#[test]
fn options_change_paths_debug_and_assertions() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let s = b.structure("plain", 4, &[("x", int, 0, 0)]);
    let options = RustTypesOptions {
        zerocopy: "::bpf_programs::zerocopy".into(),
        derive_debug: false,
        layout_assertions: false,
    };
    let code = generate(&b.build(), &[s], options);
    assert!(code.contains("#[derive(Clone, Copy, ::bpf_programs::zerocopy::FromBytes"));
    assert!(code.contains("#[zerocopy(crate = \"::bpf_programs::zerocopy\")]"));
    assert!(code.contains("<Self as ::bpf_programs::zerocopy::FromZeros>::new_zeroed()"));
    assert!(!code.contains("Debug"));
    assert!(!code.contains("assert!"));
}

#[test]
fn names_are_escaped_deduplicated_and_derived_from_context() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let u32_t = b.typedef("u32", int); // 2: a primitive's name: no alias
    let s_t = b.typedef("s32", int); // 3
    let anon = b.structure("", 4, &[("x", int, 0, 0)]); // 4
    let anon_u = b.union("", 4, &[("i", int, 0, 0)]); // 5
    let kw = b.structure(
        "match",
        24,
        &[
            ("type", u32_t, 0, 0),
            ("self", s_t, 32, 0),
            ("inner", anon, 64, 0),
            ("", anon_u, 96, 0),
            ("fn", int, 128, 0),
            ("_pad_1", int, 160, 0),
        ],
    ); // 6
    let dup = b.structure("match", 4, &[("other", int, 0, 0)]); // 7
    let anon_t = b.structure("", 4, &[("y", int, 0, 0)]); // 8
    let point = b.typedef("point_t", anon_t); // 9
    let same = b.structure("same", 4, &[("z", int, 0, 0)]); // 10
    let same_t = b.typedef("same", same); // 11: typedef struct same same;
    let holder = b.structure(
        "holder",
        12,
        &[("p", point, 0, 0), ("s", same_t, 32, 0), ("d", dup, 64, 0)],
    ); // 12
    let code = generate(&b.build(), &[kw, holder], RustTypesOptions::default());
    let body = struct_body(&code, "r#match");
    assert!(body.contains("pub r#type: i32,"), "{body}");
    assert!(body.contains("pub self_: s32,"), "{body}");
    assert!(body.contains("pub inner: match_inner,"), "{body}");
    assert!(body.contains("pub anon1: match_anon1,"), "{body}");
    assert!(body.contains("pub r#fn: i32,"), "{body}");
    assert!(body.contains("pub _pad_1: i32,"), "{body}");
    assert!(code.contains("pub type s32 = i32;"));
    assert!(!code.contains("pub type u32"));
    assert!(code.contains("pub struct match_inner {"));
    assert!(code.contains("pub struct match_anon1 {"));
    let holder_body = struct_body(&code, "holder");
    assert!(holder_body.contains("pub p: point_t,"), "{holder_body}");
    assert!(holder_body.contains("pub s: same,"), "{holder_body}");
    assert!(holder_body.contains("pub d: match___2,"), "{holder_body}");
    assert!(code.contains("pub struct point_t {"));
    assert!(!code.contains("pub type same"));
    assert!(!code.contains("pub type point_t"));
}

#[test]
fn bitfields_share_byte_storage() {
    let mut b = BtfBuilder::new();
    let uint = b.int("unsigned int", 4, false);
    let int = b.int("int", 4, true);
    let s = b.structure(
        "flags",
        4,
        &[
            ("a", uint, 0, 4),
            ("b", int, 4, 4),
            ("", uint, 8, 8),
            ("c", uint, 16, 16),
        ],
    );
    let code = generate(&b.build(), &[s], RustTypesOptions::default());
    assert_eq!(
        struct_body(&code, "flags"),
        "pub struct flags {\n    pub _align: [u32; 0],\n    pub _bitfield_1: [u8; 4],"
    );
    assert!(code.contains("pub fn a(&self) -> u32 {"));
    assert!(code.contains("pub fn set_b(&mut self, value: i32) {"));
    assert!(code.contains("(((bits << 124) as i128) >> 124) as i32"));
    // `c` (bits 16..32) reads only its two bytes.
    assert!(code.contains("raw[..2].copy_from_slice(&self._bitfield_1[2..4]);"));
    assert!(code.contains("let bits = (u128::from_le_bytes(raw) >> 0) & 0xffff;"));
}

#[test]
fn unions_enums_and_odd_scalars() {
    let mut b = BtfBuilder::new();
    let u16_ = b.int("unsigned short", 2, false); // 1
    let i128_ = b.int("__int128", 16, true); // 2
    let f = b.float("double", 8); // 3
    let bool_ = b.bool_(); // 4
    let e = b.enumeration(
        "state",
        2,
        true,
        &[("ST_NEG", -2), ("ST_A", 1), ("ST_ALIAS", 1)],
    ); // 5
    let e64 = b.enum64("big", 8, false, &[("B_MAX", u64::MAX)]); // 6
    let u = b.union(
        "value",
        16,
        &[("h", u16_, 0, 0), ("wide", i128_, 0, 0), ("d", f, 0, 0)],
    ); // 7
    let s = b.structure(
        "all",
        40,
        &[
            ("u", u, 0, 0),
            ("e", e, 128, 0),
            ("ok", bool_, 144, 0),
            ("big", e64, 192, 0),
            ("ptr", 9, 256, 0),
        ],
    ); // 8
    b.ptr(0); // 9
    let code = generate(&b.build(), &[s], RustTypesOptions::default());
    assert!(
        code.contains("pub struct value {\n    pub _align: [u64; 0],\n    pub bytes: [u8; 16],\n}")
    );
    assert!(code.contains("pub fn wide(&self) -> [u64; 2] {"));
    assert!(code.contains("pub fn set_d(&mut self, value: f64) {"));
    assert!(code.contains("pub struct state(pub i16);"));
    assert!(code.contains("pub const ST_NEG: Self = Self(-2);"));
    assert!(code.contains("pub const B_MAX: Self = Self(18446744073709551615);"));
    // A value two enumerators share is named once in Debug.
    assert_eq!(code.matches("return f.write_str(\"ST_A\")").count(), 1);
    assert!(!code.contains("return f.write_str(\"ST_ALIAS\")"));
    let body = struct_body(&code, "all");
    assert!(body.contains("pub ok: u8,"), "{body}");
    assert!(body.contains("pub ptr: u64,"), "{body}");
}

#[test]
fn packed_structs_are_repr_packed() {
    let mut b = BtfBuilder::new();
    let u8_ = b.int("unsigned char", 1, false);
    let u32_ = b.int("unsigned int", 4, false);
    let s = b.structure("hdr", 5, &[("t", u8_, 0, 0), ("len", u32_, 8, 0)]);
    let code = generate(&b.build(), &[s], RustTypesOptions::default());
    assert!(code.contains("#[repr(C, packed)]"));
    assert!(code.contains("offset_of!(hdr, len) == 1"));
}

#[test]
fn types_without_values_are_typed_errors() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let fwd = b.fwd("opaque", false); // 2
    let proto = b.func_proto(int, &[]); // 3
    let fn_t = b.typedef("fn_t", proto); // 4
    let has_fwd = b.structure("bad", 4, &[("o", fwd, 0, 0)]); // 5
    let overlap = b.structure("overlap", 8, &[("a", int, 0, 0), ("b", int, 16, 0)]); // 6
    let odd = b.int("int24", 3, false); // 7
    let btf = b.build();
    let err = |id: u32| {
        let mut types = RustTypes::new(&btf, RustTypesOptions::default());
        match types.add(id) {
            Err(e) => e,
            Ok(_) => types.write(&mut String::new()).unwrap_err(),
        }
    };
    assert!(matches!(
        err(0),
        RustTypesError::Unrepresentable { id: 0, .. }
    ));
    assert!(matches!(
        err(fwd),
        RustTypesError::Unrepresentable { id: 2, .. }
    ));
    assert!(matches!(
        err(fn_t),
        RustTypesError::Unrepresentable { id: 3, .. }
    ));
    assert!(matches!(
        err(has_fwd),
        RustTypesError::Unrepresentable { id: 2, .. }
    ));
    let e = err(overlap);
    assert!(
        matches!(e, RustTypesError::Unrepresentable { id: 6, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("overlaps"), "{e}");
    assert!(matches!(
        err(odd),
        RustTypesError::Unrepresentable { id: 7, .. }
    ));
    let mut types = RustTypes::new(&btf, RustTypesOptions::default());
    assert!(matches!(types.add_by_name("nope"), Err(RustTypesError::NotFound(n)) if n == "nope"));
    assert!(matches!(types.add(99), Err(RustTypesError::Btf(_))));
}

#[test]
fn write_emits_only_what_was_added_since_the_last_call() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let a = b.structure("a", 4, &[("x", int, 0, 0)]);
    let c = b.structure("c", 4, &[("inner", a, 0, 0)]);
    let btf = b.build();
    let mut types = RustTypes::new(&btf, RustTypesOptions::default());
    assert_eq!(types.add(c).unwrap(), "c");
    let mut first = String::new();
    types.write(&mut first).unwrap();
    assert!(first.contains("pub struct c {") && first.contains("pub struct a {"));
    assert_eq!(types.rust_name(a), Some("a"));
    assert_eq!(types.add(a).unwrap(), "a");
    let mut second = String::new();
    types.write(&mut second).unwrap();
    assert_eq!(second, "");
    assert_eq!(types.add(int).unwrap(), "i32");
}
