use std::sync::Arc;

use super::*;
use crate::btf::test_builder::BtfBuilder;

/// The header of `btf` between the fixed preamble and the kfunc section.
fn body(btf: &Btf) -> String {
    let mut out = String::new();
    let options = CHeaderOptions {
        kfunc_prototypes: false,
        ..CHeaderOptions::default()
    };
    write_c_header(btf, &mut out, &options).unwrap();
    if let Ok(dir) = std::env::var("BTFGEN_DUMP_DIR") {
        let name = std::thread::current()
            .name()
            .unwrap_or("t")
            .replace(':', "_");
        std::fs::write(format!("{dir}/{name}.btf"), btf.to_bytes()).unwrap();
        std::fs::write(format!("{dir}/{name}.ours"), &out).unwrap();
    }
    let start = out.find("#endif\n\n#ifndef __weak").unwrap();
    let start = out[start..].find("#endif\n\n").unwrap() + start + 8;
    let start = out[start..].find("#endif\n\n").unwrap() + start + 8;
    let end = out.rfind("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX").unwrap();
    out[start..end].to_owned()
}

#[test]
fn structs_pointers_and_forward_declarations() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let chr = b.int("char", 1, true); // 2
    let cchr = b.constant(chr); // 3
    let pcchr = b.ptr(cchr); // 4
    // 5: struct node { int value; struct node *next; struct tree *owner; const char *name; }
    let node = b.structure(
        "node",
        32,
        &[
            ("value", int, 0, 0),
            ("next", 6, 64, 0),
            ("owner", 7, 128, 0),
            ("name", pcchr, 192, 0),
        ],
    );
    b.ptr(node); // 6
    b.ptr(8); // 7
    // 8: struct tree { struct node root; int count; }
    b.structure("tree", 40, &[("root", node, 0, 0), ("count", int, 256, 0)]);
    assert_eq!(
        body(&b.build()),
        "struct tree;\n\n\
         struct node {\n\
         \tint value;\n\
         \tstruct node *next;\n\
         \tstruct tree *owner;\n\
         \tconst char *name;\n\
         };\n\n\
         struct tree {\n\
         \tstruct node root;\n\
         \tint count;\n\
         };\n\n"
    );
}

#[test]
fn anonymous_members_bitfields_and_padding() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let uint = b.int("unsigned int", 4, false); // 2
    let u8_ = b.int("unsigned char", 1, false); // 3
    let long = b.int("long", 8, true); // 4
    // 5: anonymous union { int a; long b; }
    let anon_union = b.union("", 8, &[("a", int, 0, 0), ("b", long, 0, 0)]);
    // 6: anonymous struct { unsigned int x: 3; unsigned int y: 5; }
    let anon_struct = b.structure("", 4, &[("x", uint, 0, 3), ("y", uint, 3, 5)]);
    // 7: struct flags { u8 kind; bitfields at 8..11 and 20..32; union at 8; struct at 16; padding to 32 }
    b.structure(
        "flags",
        32,
        &[
            ("kind", u8_, 0, 0),
            ("f1", uint, 8, 3),
            ("f2", uint, 20, 12),
            ("", anon_union, 64, 0),
            ("s", anon_struct, 128, 0),
        ],
    );
    assert_eq!(
        body(&b.build()),
        r#"struct flags {
	unsigned char kind;
	unsigned int f1: 3;
	short: 5;
	char: 4;
	unsigned int f2: 12;
	union {
		int a;
		long b;
	};
	struct {
		unsigned int x: 3;
		unsigned int y: 5;
	} s;
	long: 64;
};

"#
    );
}

#[test]
fn packed_structs_and_unaligned_members() {
    let mut b = BtfBuilder::new();
    let u8_ = b.int("u8", 1, false); // 1
    let u32_ = b.int("u32", 4, false); // 2
    let u64_ = b.int("u64", 8, false); // 3
    // 4: struct hdr { u8 type; u32 len; } packed, size 5
    let hdr = b.structure("hdr", 5, &[("type", u8_, 0, 0), ("len", u32_, 8, 0)]);
    // 5: struct outer { u8 tag; struct hdr h; u64 value; } with value at 8 (natural)
    b.structure(
        "outer",
        16,
        &[("tag", u8_, 0, 0), ("h", hdr, 8, 0), ("value", u64_, 64, 0)],
    );
    // 6: struct tail { u64 a; u8 b; } size 9: packed by size
    b.structure("tail", 9, &[("a", u64_, 0, 0), ("b", u8_, 64, 0)]);
    // 7: struct aligned { u8 a; } size 64 (a __aligned(64) struct)
    b.structure("aligned", 64, &[("a", u8_, 0, 0)]);
    assert_eq!(
        body(&b.build()),
        r#"struct aligned {
	u8 a;
	long: 64;
	long: 64;
	long: 64;
	long: 64;
	long: 64;
	long: 64;
	long: 64;
};

struct hdr {
	u8 type;
	u32 len;
} __attribute__((packed));

struct outer {
	u8 tag;
	struct hdr h;
	u64 value;
};

struct tail {
	u64 a;
	u8 b;
} __attribute__((packed));

"#
    );
}

#[test]
fn enums_of_every_width_and_sign() {
    let mut b = BtfBuilder::new();
    b.enumeration("", 4, false, &[("TOP_A", 0), ("TOP_B", 1)]); // 1: top-level constants
    b.enumeration("color", 4, true, &[("RED", -1), ("GREEN", 2)]); // 2
    b.enumeration("small", 1, false, &[("S_A", 1)]); // 3
    b.enum64("big", 8, false, &[("BIG_A", 1 << 40), ("BIG_B", u64::MAX)]); // 4
    b.enum64("wide", 8, true, &[("W_A", (-5i64) as u64)]); // 5: 8 bytes, values fit 32 bits
    b.enumeration("word", 8, false, &[("WORD_A", 7)]); // 6: 32-bit enum of 8 bytes
    let int = b.int("int", 4, true); // 7
    let anon = b.enumeration("", 4, false, &[("IN_A", 3)]); // 8: referenced, inline
    b.structure("holder", 8, &[("e", anon, 0, 0), ("i", int, 32, 0)]); // 9
    b.enumeration("opaque", 4, false, &[]); // 10: forward-declared enum
    assert_eq!(
        body(&b.build()),
        r#"enum {
	TOP_A = 0,
	TOP_B = 1,
};

enum big {
	BIG_A = 1099511627776ULL,
	BIG_B = 18446744073709551615ULL,
};

enum color {
	RED = -1,
	GREEN = 2,
};

enum opaque;

enum small {
	S_A = 1,
} __attribute__((mode(byte)));

enum wide {
	W_A = -5LL,
};

enum word {
	WORD_A = 7,
} __attribute__((mode(word)));

struct holder {
	enum {
		IN_A = 3,
	} e;
	int i;
};

"#
    );
}

#[test]
fn function_pointers_arrays_and_qualifiers() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let void_ptr = b.ptr(0); // 2
    let proto = b.func_proto(int, &[("ctx", void_ptr), ("", int)]); // 3: int (void *ctx, int)
    let fn_ptr = b.ptr(proto); // 4
    let index = b.int("__ARRAY_SIZE_TYPE__", 4, false); // 5
    let handlers = b.array(fn_ptr, index, 4); // 6: int (*handlers[4])(void *, int)
    let typedef = b.typedef("handler_t", fn_ptr); // 7
    let vint = b.volatile(int); // 8
    let pvint = b.ptr(vint); // 9
    let cp = b.constant(void_ptr); // 10: void * const
    let rp = b.restrict(pvint); // 11: volatile int * restrict
    let variadic = b.func_proto(0, &[("fmt", void_ptr), ("", 0)]); // 12: void (void *, ...)
    let pvariadic = b.ptr(variadic); // 13
    let noargs = b.func_proto(fn_ptr, &[]); // 14: returns a function pointer
    let pnoargs = b.ptr(noargs); // 15
    let matrix_row = b.array(int, index, 3); // 16
    let matrix = b.array(matrix_row, index, 2); // 17: int m[2][3]
    let tagged = b.type_tag("user", int, false); // 18
    let ptagged = b.ptr(tagged); // 19
    let arena = b.type_tag("address_space(1)", 0, true); // 20
    let parena = b.ptr(arena); // 21
    b.structure(
        "ops",
        120,
        &[
            ("handlers", handlers, 0, 0),
            ("one", typedef, 256, 0),
            ("v", pvint, 320, 0),
            ("c", cp, 384, 0),
            ("r", rp, 448, 0),
            ("log", pvariadic, 512, 0),
            ("factory", pnoargs, 576, 0),
            ("m", matrix, 640, 0),
            ("u", ptagged, 832, 0),
            ("a", parena, 896, 0),
        ],
    ); // 22 wait: 640 + 24*8 = 832, 832+64=896, 896+64=960 → 120 bytes
    assert_eq!(
        body(&b.build()),
        r#"typedef int (*handler_t)(void *ctx, int);

struct ops {
	int (*handlers[4])(void *ctx, int);
	handler_t one;
	volatile int *v;
	void * const c;
	volatile int * restrict r;
	void (*log)(void *fmt, ...);
	int (* (*factory)(void))(void *ctx, int);
	int m[2][3];
	int __attribute__((btf_type_tag("user"))) *u;
	void __attribute__((address_space(1))) *a;
};

"#
    );
}

#[test]
fn same_names_get_numbered() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let long = b.int("long", 8, true); // 2
    b.structure("dup", 4, &[("a", int, 0, 0)]); // 3
    b.structure("dup", 8, &[("b", long, 0, 0)]); // 4
    b.typedef("dup_t", int); // 5
    b.typedef("dup_t", long); // 6
    b.enumeration("e1", 4, false, &[("SAME", 0)]); // 7
    b.enumeration("e2", 4, false, &[("SAME", 1)]); // 8
    assert_eq!(
        body(&b.build()),
        r#"enum e1 {
	SAME = 0,
};

enum e2 {
	SAME___2 = 1,
};

typedef int dup_t;

typedef long dup_t___2;

struct dup {
	int a;
};

struct dup___2 {
	long b;
};

"#
    );
}

#[test]
fn typedefs_of_anonymous_and_forward_types() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let anon = b.structure("", 4, &[("x", int, 0, 0)]); // 2
    b.typedef("point_t", anon); // 3
    let fwd = b.fwd("opaque", false); // 4
    let pfwd = b.ptr(fwd); // 5
    b.typedef("opaque_ptr", pfwd); // 6
    let ufwd = b.fwd("uopaque", true); // 7
    let pufwd = b.ptr(ufwd); // 8
    // 9: struct list { list_t *next; }; 10: typedef struct list list_t;
    b.structure("list", 8, &[("next", 11, 0, 0), ("u", pufwd, 0, 0)]);
    b.typedef("list_t", 9); // 10
    b.ptr(10); // 11
    assert_eq!(
        body(&b.build()),
        r#"typedef struct {
	int x;
} point_t;

union uopaque;

struct list;

typedef struct list list_t;

struct list {
	list_t *next;
	union uopaque *u;
};

struct opaque;

typedef struct opaque *opaque_ptr;

"#
    );
}

#[test]
fn va_list_members_and_oversized_unions_keep_their_size() {
    let mut b = BtfBuilder::new();
    let chr = b.int("char", 1, true); // 1
    let pchr = b.ptr(chr); // 2
    let uint = b.int("unsigned int", 4, false); // 3
    let tag = b.structure(
        "__va_list_tag",
        24,
        &[
            ("gp_offset", uint, 0, 0),
            ("fp_offset", uint, 32, 0),
            ("overflow_arg_area", pchr, 64, 0),
            ("reg_save_area", pchr, 128, 0),
        ],
    ); // 4
    let index = b.int("__ARRAY_SIZE_TYPE__", 4, false); // 5
    let arr = b.array(tag, index, 1); // 6
    let builtin = b.typedef("__builtin_va_list", arr); // 7
    let gnuc = b.typedef("__gnuc_va_list", builtin); // 8
    let va = b.typedef("va_list", gnuc); // 9
    b.structure("warn_args", 32, &[("fmt", pchr, 0, 0), ("args", va, 64, 0)]); // 10
    b.union("release_arg", 8, &[]); // 11
    assert_eq!(
        body(&b.build()),
        r#"struct __va_list_tag {
	unsigned int gp_offset;
	unsigned int fp_offset;
	char *overflow_arg_area;
	char *reg_save_area;
};

typedef __builtin_va_list __gnuc_va_list;

typedef __gnuc_va_list va_list;

union release_arg {
	struct {
		long: 64;
	};
};

struct warn_args {
	char *fmt;
	va_list args;
	long: 64;
	long: 64;
};

"#
    );
}

#[test]
fn kfuncs_are_declared_extern_by_name() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let s = b.structure("task", 4, &[("pid", int, 0, 0)]); // 2
    let ps = b.ptr(s); // 3
    let proto = b.func_proto(ps, &[("pid", int)]); // 4
    let lookup = b.func("bpf_task_lookup", proto); // 5
    let release_proto = b.func_proto(0, &[("t", ps)]); // 6
    let release = b.func("bpf_task_release", release_proto); // 7
    let plain = b.func("not_a_kfunc", release_proto); // 8
    b.decl_tag("bpf_kfunc", release, -1); // 9
    b.decl_tag("bpf_kfunc", lookup, -1); // 10
    b.decl_tag("bpf_fastcall", lookup, -1); // 11
    b.decl_tag("bpf_kfunc", plain, 0); // 12: a parameter's tag, not the function's
    let btf = b.build();
    let mut out = String::new();
    write_c_header(&btf, &mut out, &CHeaderOptions::default()).unwrap();
    let kfuncs = &out[out.find("/* BPF kfuncs */").unwrap()..];
    assert!(
        kfuncs.starts_with(
            "/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n\
             extern struct task *bpf_task_lookup(int pid) __weak __ksym;\n\
             extern void bpf_task_release(struct task *t) __weak __ksym;\n\
             #endif\n\n"
        ),
        "{kfuncs}"
    );
    assert!(!out.contains("__bpf_fastcall"));
    let mut fastcall = String::new();
    let options = CHeaderOptions {
        fastcall: true,
        ..CHeaderOptions::default()
    };
    write_c_header(&btf, &mut fastcall, &options).unwrap();
    assert!(fastcall.contains("#define __bpf_fastcall __attribute__((bpf_fastcall))"));
    assert!(fastcall.contains("extern __bpf_fastcall struct task *bpf_task_lookup(int pid)"));
    assert!(out.starts_with("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"));
    assert!(out.ends_with("#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n"));
}

#[test]
fn split_btf_header_holds_the_base_types_too() {
    let mut base = BtfBuilder::new();
    let int = base.int("int", 4, true);
    base.structure("shared", 4, &[("a", int, 0, 0)]);
    let base = Arc::new(base.build());
    let mut module = BtfBuilder::split(&base);
    let shared = base.find_by_name_kind("shared", BtfKind::Struct).unwrap();
    module.structure("modonly", 8, &[("s", shared, 0, 0), ("b", int, 32, 0)]);
    let btf = module.build_split(base);
    assert_eq!(
        body(&btf),
        "struct shared {\n\tint a;\n};\n\nstruct modonly {\n\tstruct shared s;\n\tint b;\n};\n\n"
    );
}

#[test]
fn unsorted_order_follows_type_ids() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    b.structure("zeta", 4, &[("z", int, 0, 0)]);
    b.structure("alpha", 4, &[("a", int, 0, 0)]);
    let btf = b.build();
    let mut out = String::new();
    let options = CHeaderOptions {
        sorted: false,
        ..CHeaderOptions::default()
    };
    write_c_header(&btf, &mut out, &options).unwrap();
    assert!(out.find("struct zeta {").unwrap() < out.find("struct alpha {").unwrap());
    assert!(body(&btf).find("struct alpha {").unwrap() < body(&btf).find("struct zeta {").unwrap());
}

#[test]
fn writer_defines_each_type_once_and_declares() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true); // 1
    let a = b.structure("a", 4, &[("x", int, 0, 0)]); // 2
    let bb = b.structure("b", 4, &[("inner", a, 0, 0)]); // 3
    let pb = b.ptr(bb); // 4
    let proto = b.func_proto(int, &[("arg", pb)]); // 5
    let btf = b.build();
    let mut writer = CWriter::new(&btf).unwrap();
    assert_eq!(writer.c_name(bb), None);
    let mut out = String::new();
    writer.write_type(bb, &mut out).unwrap();
    assert_eq!(
        out,
        "struct a {\n\tint x;\n};\n\nstruct b {\n\tstruct a inner;\n};\n\n"
    );
    let mut again = String::new();
    writer.write_type(a, &mut again).unwrap();
    writer.write_type(bb, &mut again).unwrap();
    assert_eq!(again, "");
    assert_eq!(writer.c_name(bb), Some("b"));
    let mut decl = String::new();
    writer
        .write_declaration(proto, "handler", &mut decl)
        .unwrap();
    assert_eq!(decl, "int handler(struct b *arg)");
    let mut ptr = String::new();
    writer.write_declaration(pb, "", &mut ptr).unwrap();
    assert_eq!(ptr, "struct b *");
    assert!(matches!(
        writer.write_type(99, &mut String::new()),
        Err(CHeaderError::Btf(BtfError::TypeIdOutOfRange { id: 99, .. }))
    ));
}

#[test]
fn malformed_graphs_are_errors_not_crashes() {
    // A struct containing itself by value has no C definition.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    b.structure("self_contained", 8, &[("a", int, 0, 0), ("me", 2, 32, 0)]);
    let mut out = String::new();
    let err = write_c_header(&b.build(), &mut out, &CHeaderOptions::default()).unwrap_err();
    assert!(matches!(err, CHeaderError::TypeCycle { id: 2 }), "{err:?}");

    // const → const → ... → itself.
    let mut b = BtfBuilder::new();
    b.constant(2);
    b.constant(1);
    b.structure("s", 8, &[("c", 1, 0, 0)]);
    let err =
        write_c_header(&b.build(), &mut String::new(), &CHeaderOptions::default()).unwrap_err();
    assert!(matches!(err, CHeaderError::TooDeep { .. }), "{err:?}");

    // A size no C type has: 256 MiB of padding after one int.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    b.structure("huge", 1 << 28, &[("a", int, 0, 0)]);
    let err =
        write_c_header(&b.build(), &mut String::new(), &CHeaderOptions::default()).unwrap_err();
    assert!(
        matches!(err, CHeaderError::Padding { id: 2, .. }),
        "{err:?}"
    );

    // A variable where a member's type belongs.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let proto = b.func_proto(int, &[]);
    let func = b.func("f", proto);
    b.structure("s", 8, &[("f", func, 0, 0)]);
    let err =
        write_c_header(&b.build(), &mut String::new(), &CHeaderOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            CHeaderError::NotADeclaration {
                kind: BtfKind::Func,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unions_of_odd_sizes_are_packed() {
    let mut b = BtfBuilder::new();
    let u8_ = b.int("u8", 1, false);
    let u32_ = b.int("u32", 4, false);
    let index = b.int("__ARRAY_SIZE_TYPE__", 4, false);
    let bytes = b.array(u8_, index, 18);
    // union data { u32 word; u8 bytes[18]; } __packed: 18 bytes, no multiple of 4.
    let data = b.union("data", 18, &[("word", u32_, 0, 0), ("bytes", bytes, 0, 0)]);
    b.structure("event", 19, &[("kind", u8_, 0, 0), ("data", data, 8, 0)]);
    assert_eq!(
        body(&b.build()),
        "union data {\n\tu32 word;\n\tu8 bytes[18];\n} __attribute__((packed));\n\n\
         struct event {\n\tu8 kind;\n\tunion data data;\n};\n\n"
    );
}
