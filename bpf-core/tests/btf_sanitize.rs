//! DATASEC fix-ups and sanitisation on a real object's BTF (tests/bpf/obj/core/core_fields.o).

use bpf_core::btf::{Btf, BtfFeatures, BtfKind, DataSymbol, FuncLinkage, TypeKind};
use object::{Object, ObjectSection};

fn object_btf() -> Btf {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/bpf/obj/core/core_fields.o"
    ))
    .unwrap();
    let file = object::File::parse(&*data).unwrap();
    Btf::parse(file.section_by_name(".BTF").unwrap().data().unwrap()).unwrap()
}

fn count(btf: &Btf, kind: BtfKind) -> usize {
    (1..btf.end_id())
        .filter(|&id| btf.kind(id).unwrap() == kind)
        .count()
}

#[test]
fn datasec_sizes_and_offsets_come_from_the_elf() {
    let mut btf = object_btf();
    let bss = btf
        .find_by_name_kind(".bss", BtfKind::Datasec)
        .expect(".bss datasec");
    let TypeKind::Datasec(sec) = btf.type_by_id(bss).unwrap().kind else {
        panic!()
    };
    assert_eq!(sec.size, 0, "clang leaves DATASEC sizes to the loader");
    btf.fixup_datasecs(
        |name| {
            (name == ".bss")
                .then_some(256)
                .or((name == "license").then_some(4))
        },
        |var| {
            (var == "out")
                .then_some(DataSymbol {
                    offset: 0,
                    hidden: true,
                })
                .or((var == "LICENSE").then_some(DataSymbol {
                    offset: 0,
                    hidden: false,
                }))
        },
    )
    .unwrap();
    let TypeKind::Datasec(sec) = btf.type_by_id(bss).unwrap().kind else {
        panic!()
    };
    assert_eq!(sec.size, 256);
    let var = sec.vars().next().unwrap();
    assert_eq!((var.offset, var.size), (0, 256));
    assert!(matches!(
        btf.type_by_id(var.type_id).unwrap().kind,
        TypeKind::Var {
            linkage: bpf_core::btf::VarLinkage::Static,
            ..
        }
    ));
    assert!(object_btf().fixup_datasecs(|_| None, |_| None).is_err());
}

#[test]
fn sanitizing_for_an_old_kernel_rewrites_every_new_kind() {
    let mut btf = object_btf();
    let before = btf.len();
    assert!(
        count(&btf, BtfKind::Datasec) > 0
            && count(&btf, BtfKind::Func) > 0
            && count(&btf, BtfKind::Enum64) > 0
    );
    assert!(btf.needs_sanitizing(&BtfFeatures::none()).unwrap());
    assert!(!btf.needs_sanitizing(&BtfFeatures::all()).unwrap());
    btf.sanitize(&BtfFeatures::none()).unwrap();
    for kind in [
        BtfKind::Var,
        BtfKind::Datasec,
        BtfKind::Func,
        BtfKind::FuncProto,
        BtfKind::Enum64,
        BtfKind::Float,
        BtfKind::DeclTag,
        BtfKind::TypeTag,
    ] {
        assert_eq!(count(&btf, kind), 0, "{kind:?} left");
    }
    assert_eq!(
        btf.len(),
        before + 1,
        "one placeholder int for ENUM64 members"
    );
    assert!(
        btf.find_by_name_kind("_bss", BtfKind::Struct).is_some(),
        "DATASEC became a struct without dots"
    );
    let again = Btf::parse(&btf.to_bytes()).unwrap();
    assert_eq!(again.to_bytes(), btf.to_bytes());
}

#[test]
fn global_functions_become_static_without_func_global() {
    let mut btf = object_btf();
    let f = btf.find_by_name_kind("fields", BtfKind::Func).unwrap();
    assert!(matches!(
        btf.type_by_id(f).unwrap().kind,
        TypeKind::Func {
            linkage: FuncLinkage::Global,
            ..
        }
    ));
    btf.sanitize(&BtfFeatures {
        func_global: false,
        ..BtfFeatures::all()
    })
    .unwrap();
    assert!(matches!(
        btf.type_by_id(f).unwrap().kind,
        TypeKind::Func {
            linkage: FuncLinkage::Static,
            ..
        }
    ));
    assert_eq!(
        count(&btf, BtfKind::Datasec),
        count(&object_btf(), BtfKind::Datasec)
    );
}
