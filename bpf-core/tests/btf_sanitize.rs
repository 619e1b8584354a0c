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
                .then_some(320)
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
    assert_eq!(sec.size, 320);
    let var = sec.vars().next().unwrap();
    assert_eq!((var.offset, var.size), (0, 320), "out[40] of u64");
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

/// Objects whose BTF holds every kind sanitising rewrites between them (DATASEC/VAR, FUNC
/// with global linkage, ENUM64, DECL_TAG, TYPE_TAG, FLOAT) and the kfunc/ksym/kconfig externs.
const OBJECTS: &[(&str, &[u8])] = &[
    (
        "btf_kinds.bpf.o",
        include_bytes!("../../tests/bpf/obj/btf_kinds.bpf.o"),
    ),
    (
        "core_fields.o",
        include_bytes!("../../tests/bpf/obj/core/core_fields.o"),
    ),
    (
        "reloc_externs.bpf.o",
        include_bytes!("../../tests/bpf/obj/reloc_externs.bpf.o"),
    ),
    (
        "module_btf.bpf.o",
        include_bytes!("../../tests/bpf/obj/module_btf.bpf.o"),
    ),
    (
        "struct_ops_cc.bpf.o",
        include_bytes!("../../tests/bpf/obj/struct_ops_cc.bpf.o"),
    ),
    (
        "prog_fentry.bpf.o",
        include_bytes!("../../tests/bpf/obj/prog_fentry.bpf.o"),
    ),
    (
        "map_arena.bpf.o",
        include_bytes!("../../tests/bpf/obj/map_arena.bpf.o"),
    ),
    (
        "rw_runqlat.bpf.o",
        include_bytes!("../../tests/bpf/obj/rw_runqlat.bpf.o"),
    ),
];

/// The BTF features of ever older kernels, each lacking what the previous one lacks and one
/// kind more (the test kernels, 6.1 and newer, accept every kind clang emits here, so
/// sanitising is forced the way an older kernel's probes would ask for it). Kernels without
/// FUNC (before 5.0) are left out: their FUNC_PROTO→ENUM rewrite keeps unnamed parameters as
/// unnamed enumerators, which those kernels took but today's kernels refuse ("Invalid name"),
/// so no bootable kernel can check it.
fn older_kernels() -> Vec<(&'static str, BtfFeatures)> {
    let mut features = BtfFeatures::all();
    let mut kernels = Vec::new();
    type Step = (&'static str, fn(&mut BtfFeatures));
    let steps: [Step; 7] = [
        ("before 6.0: no ENUM64, no signed ENUM", |f| {
            f.enum64 = false;
            f.signed_enum = false;
        }),
        ("before 5.17: no TYPE_TAG", |f| f.type_tag = false),
        ("before 5.16: no DECL_TAG", |f| f.decl_tag = false),
        ("5.10: no empty DATASEC", |f| f.empty_datasec = false),
        ("before 5.13: no FLOAT", |f| f.float = false),
        ("before 5.6: no global FUNC", |f| f.func_global = false),
        ("before 5.2: no DATASEC", |f| f.datasec = false),
    ];
    for (kernel, drop) in steps {
        drop(&mut features);
        kernels.push((kernel, features));
    }
    kernels
}

/// Whether the running kernel takes a BTF blob of `types` (encoded words) over the strings
/// `"\0int\0x\0.data\0"`.
fn kernel_loads(types: &[u32]) -> bool {
    const STRINGS: &[u8] = b"\0int\0x\0.data\0";
    let type_len = (types.len() * 4) as u32;
    let mut blob: Vec<u8> = vec![0x9f, 0xeb, 1, 0];
    for word in [24, 0, type_len, type_len, STRINGS.len() as u32]
        .iter()
        .chain(types)
    {
        blob.extend_from_slice(&word.to_le_bytes());
    }
    blob.extend_from_slice(STRINGS);
    bpf_sys::btf::btf_load(&blob, 0, None).is_ok()
}

/// What the running kernel itself accepts, by raw loads: a sanitised BTF can only be checked
/// here for feature sets within it (the 5.10 guest, for one, refuses DECL_TAG altogether).
fn running_kernel() -> BtfFeatures {
    let info = |kind: u32, flag: u32, vlen: u32| (flag << 31) | (kind << 24) | vlen;
    let int = [1, info(1, 0, 0), 4, (1 << 24) | 32];
    let with_int = |rest: &[u32]| -> Vec<u32> { int.iter().chain(rest).copied().collect() };
    BtfFeatures {
        func: kernel_loads(&with_int(&[0, info(13, 0, 0), 1, 5, info(12, 0, 0), 2])),
        func_global: kernel_loads(&with_int(&[0, info(13, 0, 0), 1, 5, info(12, 0, 1), 2])),
        datasec: kernel_loads(&with_int(&[
            5,
            info(14, 0, 0),
            1,
            1,
            7,
            info(15, 0, 1),
            4,
            2,
            0,
            4,
        ])),
        float: kernel_loads(&[1, info(16, 0, 0), 4]),
        decl_tag: kernel_loads(&with_int(&[
            5,
            info(14, 0, 0),
            1,
            1,
            3,
            info(17, 0, 0),
            2,
            u32::MAX,
        ])),
        type_tag: kernel_loads(&with_int(&[3, info(18, 0, 0), 1, 0, info(2, 0, 0), 2])),
        enum64: kernel_loads(&[3, info(19, 0, 1), 8, 5, 0, 1]),
        signed_enum: kernel_loads(&[3, info(6, 1, 1), 4, 5, u32::MAX]),
        empty_datasec: kernel_loads(&[7, info(15, 0, 0), 4]),
    }
}

/// Whether every feature `wanted` keeps is one `running` has.
fn within(wanted: &BtfFeatures, running: &BtfFeatures) -> bool {
    let pairs = [
        (wanted.func, running.func),
        (wanted.func_global, running.func_global),
        (wanted.datasec, running.datasec),
        (wanted.float, running.float),
        (wanted.decl_tag, running.decl_tag),
        (wanted.type_tag, running.type_tag),
        (wanted.enum64, running.enum64),
        (wanted.signed_enum, running.signed_enum),
        (wanted.empty_datasec, running.empty_datasec),
    ];
    pairs.iter().all(|&(w, r)| !w || r)
}

/// Sanitised BTF must still be BTF the kernel takes: each object's fixed-up BTF, sanitised for
/// each older kernel, goes through BPF_BTF_LOAD of the running kernel, which checks every type.
#[test]
fn sanitized_btf_of_real_objects_loads_into_the_running_kernel() {
    let eff = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("CapEff:")
                .map(|h| u64::from_str_radix(h.trim(), 16))
        })
        .unwrap()
        .unwrap();
    // BPF_BTF_LOAD needs CAP_BPF (39) or CAP_SYS_ADMIN (21).
    if eff & (1 << 39 | 1 << 21) == 0 {
        println!(
            "SKIPPED btf_sanitize::sanitized_btf_of_real_objects_loads_into_the_running_kernel: \
             neither CAP_BPF nor CAP_SYS_ADMIN (CapEff)"
        );
        return;
    }
    let running = running_kernel();
    // Feature sets beyond what this kernel takes cannot be checked here (an older guest).
    let kernels: Vec<_> = older_kernels()
        .into_iter()
        .filter(|(_, features)| within(features, &running))
        .collect();
    assert!(
        !kernels.is_empty(),
        "not one simulated older kernel within what this one takes: {running:?}"
    );
    let mut loaded = vec![0; kernels.len()];
    for (name, bytes) in OBJECTS {
        let object = bpf_core::obj::Object::parse(bytes).unwrap();
        let btf = object
            .btf
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has BTF"));
        for (index, (kernel, features)) in kernels.iter().enumerate() {
            if !btf.needs_sanitizing(features).unwrap() {
                continue;
            }
            let mut sanitized = btf.clone();
            sanitized.sanitize(features).unwrap();
            assert!(
                !sanitized.needs_sanitizing(features).unwrap(),
                "{name}, {kernel}"
            );
            bpf_sys::btf::btf_load(&sanitized.to_bytes(), 1, None).unwrap_or_else(|e| {
                panic!("{name} sanitised for a kernel {kernel}: the kernel refuses it: {e}")
            });
            loaded[index] += 1;
        }
    }
    // Some object needed each rewrite: none of them went unchecked.
    for ((kernel, _), count) in kernels.iter().zip(&loaded) {
        assert!(
            *count > 0,
            "no object needed sanitising for a kernel {kernel}"
        );
    }
}
