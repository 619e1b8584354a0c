//! Relocation of real objects: calls, callbacks, maps, global data, externs.

use bpf_core::obj::Object;
use bpf_core::relocation::{
    Bindings, KfuncValue, KsymValue, MapReference, RelocatedProgram, RelocationErrorKind,
};
use bpf_sys::generated::{
    BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD,
    BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, bpf_insn,
};

const CALLS: &[u8] = include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o");
const GLOBALS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_globals.bpf.o");
const PROGRAMS: &[u8] = include_bytes!("../../tests/bpf/obj/parse_programs.bpf.o");
const EXTERNS: &[u8] = include_bytes!("../../tests/bpf/obj/reloc_externs.bpf.o");

fn fds(object: &Object) -> Bindings {
    let mut bindings = Bindings::default();
    for (i, map) in object.maps.iter().enumerate() {
        bindings
            .maps
            .insert(map.name.clone(), MapReference::Fd(100 + i as i32));
    }
    bindings
}

fn fd_of(object: &Object, map: &str) -> i32 {
    100 + object.maps.iter().position(|m| m.name == map).unwrap() as i32
}

fn start_of(program: &RelocatedProgram, function: &str) -> usize {
    program
        .functions
        .iter()
        .find(|(name, _)| name == function)
        .unwrap_or_else(|| panic!("{function} not linked"))
        .1
}

/// Instruction index each call / function pointer of `program` lands on.
fn call_targets(program: &RelocatedProgram) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < program.insns.len() {
        let insn = &program.insns[i];
        let src = u32::from(insn.src_reg());
        if (insn.code == 0x85 && src == BPF_PSEUDO_CALL)
            || (insn.code == 0x18 && src == BPF_PSEUDO_FUNC)
        {
            out.push((i, (i as i64 + 1 + i64::from(insn.imm)) as usize));
        }
        i += if insn.code == 0x18 { 2 } else { 1 };
    }
    out
}

fn assert_insn(insn: &bpf_insn, code: u8, src: u32, imm: i32) {
    assert_eq!(
        (insn.code, u32::from(insn.src_reg()), insn.imm),
        (code, src, imm),
        "{insn:?}"
    );
}

#[test]
fn subprograms_are_appended_once_and_calls_land_on_them() {
    let object = Object::parse(CALLS).unwrap();
    let p = object.relocate("entry_calls", &fds(&object)).unwrap();
    let names: Vec<&str> = p.functions.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["entry_calls", "global_sub", "middle", "leaf"]);
    assert_eq!(start_of(&p, "entry_calls"), 0);
    let entry_len = object
        .functions
        .values()
        .find(|f| f.name == "entry_calls")
        .unwrap()
        .insns
        .len();
    assert_eq!(start_of(&p, "global_sub"), entry_len);
    let targets = call_targets(&p);
    // entry → global_sub, entry → middle, middle → leaf (twice): `leaf` appears once.
    assert_eq!(targets.len(), 4);
    assert!(targets.contains(&(2, start_of(&p, "global_sub"))));
    assert!(targets.contains(&(6, start_of(&p, "middle"))));
    assert_eq!(
        targets
            .iter()
            .filter(|(_, t)| *t == start_of(&p, "leaf"))
            .count(),
        2
    );
    // global_sub's map load now refers to `results` by fd.
    let load = start_of(&p, "global_sub") + 5;
    assert_insn(
        &p.insns[load],
        0x18,
        BPF_PSEUDO_MAP_FD,
        fd_of(&object, "results"),
    );
    assert_eq!(p.maps, ["results"]);
    let total: usize = p
        .functions
        .iter()
        .map(|(n, _)| {
            object
                .functions
                .values()
                .find(|f| &f.name == n)
                .unwrap()
                .insns
                .len()
        })
        .sum();
    assert_eq!(p.insns.len(), total);
}

#[test]
fn bpf_loop_callbacks_are_linked_as_function_pointers() {
    let object = Object::parse(CALLS).unwrap();
    let p = object.relocate("entry_loop", &fds(&object)).unwrap();
    let names: Vec<&str> = p.functions.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["entry_loop", "loop_body", "other_body", "middle", "leaf"]
    );
    assert_insn(
        &p.insns[1],
        0x18,
        BPF_PSEUDO_FUNC,
        (start_of(&p, "loop_body") - 2) as i32,
    );
    assert_insn(
        &p.insns[7],
        0x18,
        BPF_PSEUDO_FUNC,
        (start_of(&p, "other_body") - 8) as i32,
    );
    assert_eq!(p.insns[2].imm, 0);
    // The callbacks reach `total` in .bss.
    assert_eq!(p.maps, [".bss"]);
    let load = start_of(&p, "loop_body") + 3;
    assert_insn(
        &p.insns[load],
        0x18,
        BPF_PSEUDO_MAP_VALUE,
        fd_of(&object, ".bss"),
    );
    assert_eq!(p.insns[load + 1].imm, 0);
}

#[test]
fn relocation_is_lazy_per_program() {
    let object = Object::parse(CALLS).unwrap();
    // Without any map bound, programs that use no map still relocate.
    let empty = Bindings::default();
    let leaf_only = object.relocate("entry_leaf_only", &empty).unwrap();
    assert_eq!(leaf_only.functions.len(), 2);
    assert!(
        object
            .relocate("entry_no_calls", &empty)
            .unwrap()
            .functions
            .len()
            == 1
    );
    let err = object.relocate("entry_calls", &empty).unwrap_err();
    assert_eq!(
        (
            err.program.as_str(),
            err.function.as_str(),
            err.insn,
            err.symbol.as_str()
        ),
        ("entry_calls", "global_sub", 5, "results")
    );
    assert_eq!(
        err.kind,
        RelocationErrorKind::MapNotBound {
            map: "results".into()
        }
    );
    let err = object.relocate("nope", &empty).unwrap_err();
    assert_eq!(err.kind, RelocationErrorKind::UnknownProgram);
}

#[test]
fn subprograms_from_other_sections_and_static_functions() {
    let object = Object::parse(PROGRAMS).unwrap();
    let second = object.relocate("xdp_second", &Bindings::default()).unwrap();
    assert_eq!(
        second
            .functions
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["xdp_second", "other_section_helper"]
    );
    assert_eq!(
        call_targets(&second),
        [(1, start_of(&second, "other_section_helper"))]
    );
    let tp = object.relocate("tp_getpid", &Bindings::default()).unwrap();
    assert_eq!(
        tp.functions
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["tp_getpid", "static_helper"]
    );
    let first = object.relocate("xdp_first", &Bindings::default()).unwrap();
    assert_eq!(first.functions.len(), 3);
    // The entry function is untouched apart from the call.
    let entry = object
        .function(object.program("xdp_first").unwrap().function)
        .unwrap();
    for (i, (a, b)) in entry.insns.iter().zip(&first.insns).enumerate() {
        if i != 1 {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "insn {i}");
        }
    }
}

#[test]
fn global_data_loads_carry_fd_and_variable_offset() {
    let object = Object::parse(GLOBALS).unwrap();
    let p = object.relocate("use_globals", &fds(&object)).unwrap();
    assert_eq!(
        p.maps,
        [".bss", ".data", ".data.custom", ".rodata", ".rodata.config"]
    );
    let entry = object
        .function(object.program("use_globals").unwrap().function)
        .unwrap();
    for relocation in &entry.relocations {
        let at = relocation.insn_index;
        let map = object
            .maps
            .iter()
            .find(|m| Some(m.section_index.unwrap()) == relocation.symbol.section_index)
            .unwrap();
        assert_insn(
            &p.insns[at],
            0x18,
            BPF_PSEUDO_MAP_VALUE,
            fd_of(&object, &map.name),
        );
        let expected = match map.variable(&relocation.symbol.name) {
            Some(v) => v.offset as i32,
            None => entry.insns[at].imm, // section-relative load of a static variable
        };
        assert_eq!(p.insns[at + 1].imm, expected, "{}", relocation.symbol.name);
    }
    // `magic` sits at offset 8 of .rodata and `static_counter` at 4 of .data.
    assert!(
        entry
            .relocations
            .iter()
            .any(|r| r.symbol.name == "magic" && p.insns[r.insn_index + 1].imm == 8)
    );
    assert!(
        entry
            .relocations
            .iter()
            .any(|r| r.symbol.name == ".data" && p.insns[r.insn_index + 1].imm == 4)
    );
}

#[test]
fn fd_array_indexes_instead_of_fds() {
    let object = Object::parse(GLOBALS).unwrap();
    let mut bindings = Bindings::default();
    for (i, map) in object.maps.iter().enumerate() {
        bindings
            .maps
            .insert(map.name.clone(), MapReference::FdArrayIndex(i as i32));
    }
    let p = object.relocate("use_globals", &bindings).unwrap();
    assert_insn(
        &p.insns[0],
        0x18,
        BPF_PSEUDO_MAP_IDX_VALUE,
        object.maps.iter().position(|m| m.name == ".data").unwrap() as i32,
    );
}

#[test]
fn ksyms_and_kfuncs_resolve_from_given_values() {
    let object = Object::parse(EXTERNS).unwrap();
    let mut bindings = fds(&object);
    bindings.ksyms.insert(
        "init_task".into(),
        KsymValue::Address(0xffff_ffff_8260_0940),
    );
    bindings.ksyms.insert(
        "bpf_prog_active".into(),
        KsymValue::BtfId {
            btf_id: 4242,
            btf_obj_fd: 0,
        },
    );
    for (name, id) in [
        ("bpf_rcu_read_lock", 11),
        ("bpf_task_from_pid", 12),
        ("bpf_rcu_read_unlock", 14),
    ] {
        bindings.kfuncs.insert(
            name.into(),
            KfuncValue {
                btf_id: id,
                fd_array_index: 0,
                btf_obj_fd: 0,
            },
        );
    }
    let p = object.relocate("use_externs", &bindings).unwrap();
    let entry = object
        .function(object.program("use_externs").unwrap().function)
        .unwrap();
    let at = |name: &str| {
        entry
            .relocations
            .iter()
            .find(|r| r.symbol.name == name)
            .unwrap()
            .insn_index
    };
    let i = at("init_task");
    assert_insn(&p.insns[i], 0x18, 0, 0x8260_0940u32 as i32);
    assert_eq!(p.insns[i + 1].imm, 0xffff_ffffu32 as i32);
    let i = at("bpf_prog_active");
    assert_insn(&p.insns[i], 0x18, BPF_PSEUDO_BTF_ID, 4242);
    // Weak typeless ksym that is absent → 0.
    let i = at("absent_symbol");
    assert_insn(&p.insns[i], 0x18, 0, 0);
    assert_eq!(p.insns[i + 1].imm, 0);

    let p = object.relocate("use_kfuncs", &bindings).unwrap();
    let entry = object
        .function(object.program("use_kfuncs").unwrap().function)
        .unwrap();
    let at = |name: &str| {
        entry
            .relocations
            .iter()
            .find(|r| r.symbol.name == name)
            .unwrap()
            .insn_index
    };
    assert_insn(
        &p.insns[at("bpf_task_from_pid")],
        0x85,
        BPF_PSEUDO_KFUNC_CALL,
        12,
    );
    // Weak kfunc not given → poisoned helper call, not a kfunc call.
    let poisoned = &p.insns[at("bpf_task_release")];
    assert_eq!((poisoned.code, poisoned.src_reg()), (0x85, 0));
    assert!(poisoned.imm >= 2_002_000_000);
}

#[test]
fn missing_strong_ksym_is_an_error_naming_it() {
    let object = Object::parse(EXTERNS).unwrap();
    let err = object.relocate("use_externs", &fds(&object)).unwrap_err();
    assert_eq!(err.program, "use_externs");
    assert!(!err.symbol.is_empty());
    assert!(
        matches!(
            err.kind,
            RelocationErrorKind::UnresolvedExtern | RelocationErrorKind::NoKconfigMap
        ),
        "{err}"
    );
    assert!(err.to_string().contains(&err.symbol));
}

#[test]
fn encoded_bytes_round_trip() {
    let object = Object::parse(CALLS).unwrap();
    let p = object.relocate("entry_loop", &fds(&object)).unwrap();
    let bytes = p.insn_bytes();
    assert_eq!(bytes.len(), p.insns.len() * 8);
    assert_eq!(
        bpf_core::obj::insn::encode(&bpf_core::obj::insn::decode(&bytes)),
        bytes
    );
    assert_eq!(&bytes[8..10], &[0x18, 0x42]); // r2 = callback (dst 2, src BPF_PSEUDO_FUNC)
}

#[test]
fn kconfig_externs_load_from_the_kconfig_map() {
    let mut object = Object::parse(EXTERNS).unwrap();
    let kconfig = object.map(".kconfig").unwrap();
    assert!(kconfig.frozen());
    let offset_of = |name: &str| kconfig.variable(name).unwrap().offset;
    let (version, hz) = (offset_of("LINUX_KERNEL_VERSION"), offset_of("CONFIG_HZ"));
    let mut bindings = fds(&object);
    bindings
        .ksyms
        .insert("init_task".into(), KsymValue::Address(1));
    bindings
        .ksyms
        .insert("bpf_prog_active".into(), KsymValue::Address(2));
    let p = object.relocate("use_externs", &bindings).unwrap();
    let entry = object
        .function(object.program("use_externs").unwrap().function)
        .unwrap();
    let at = |name: &str| {
        entry
            .relocations
            .iter()
            .find(|r| r.symbol.name == name)
            .unwrap()
            .insn_index
    };
    let kconfig_fd = fd_of(&object, ".kconfig");
    assert_insn(
        &p.insns[at("LINUX_KERNEL_VERSION")],
        0x18,
        BPF_PSEUDO_MAP_VALUE,
        kconfig_fd,
    );
    assert_eq!(p.insns[at("LINUX_KERNEL_VERSION") + 1].imm, version as i32);
    assert_insn(
        &p.insns[at("CONFIG_HZ")],
        0x18,
        BPF_PSEUDO_MAP_VALUE,
        kconfig_fd,
    );
    assert_eq!(p.insns[at("CONFIG_HZ") + 1].imm, hz as i32);
    assert!(p.maps.contains(&".kconfig".to_string()));

    let values: std::collections::HashMap<String, String> = [
        ("LINUX_KERNEL_VERSION", "396288"),
        ("CONFIG_BPF_SYSCALL", "y"),
        ("CONFIG_NET_SCH_INGRESS", "m"),
        ("CONFIG_HZ", "250"),
        ("CONFIG_LOCALVERSION", "\"-rc1\""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    object.fill_kconfig(&values).unwrap();
    let data = &object.map(".kconfig").unwrap().data;
    assert_eq!(
        &data[version as usize..version as usize + 4],
        &396288u32.to_le_bytes()
    );
    assert_eq!(&data[hz as usize..hz as usize + 4], &250i32.to_le_bytes());
    let tristate = object
        .map(".kconfig")
        .unwrap()
        .variable("CONFIG_NET_SCH_INGRESS")
        .unwrap()
        .offset as usize;
    assert_eq!(&data[tristate..tristate + 4], &2u32.to_le_bytes());
    let local = object
        .map(".kconfig")
        .unwrap()
        .variable("CONFIG_LOCALVERSION")
        .unwrap()
        .offset as usize;
    assert_eq!(&data[local..local + 5], b"-rc1\0");
    // A strong kconfig extern without a value is an error naming it.
    let mut missing = values.clone();
    missing.remove("CONFIG_HZ");
    assert_eq!(
        object.fill_kconfig(&missing),
        Err(bpf_core::obj::KconfigError::Missing {
            name: "CONFIG_HZ".into()
        })
    );
    // ... and only programs reading it fail to relocate, naming it.
    let err = object.relocate("use_externs", &bindings).unwrap_err();
    assert!(err.to_string().contains("CONFIG_HZ"), "{err}");
    assert!(err.to_string().contains("not resolved"), "{err}");
}

#[test]
fn core_relocations_are_attached_to_their_functions() {
    let object = Object::parse(PROGRAMS).unwrap();
    let mut total = 0;
    for function in object.functions.values() {
        for relo in &function.core_relocations {
            assert_eq!(relo.insn_off % 8, 0);
            assert!(
                (relo.insn_off / 8) < function.insns.len() as u32,
                "{}: {relo:?}",
                function.name
            );
            total += 1;
        }
    }
    assert!(
        total > 0,
        "the ctx accesses through vmlinux.h types carry CO-RE records"
    );
    // xdp_first reads ctx->ingress_ifindex (offset 12 of struct xdp_md) via a CO-RE field offset.
    let first = object
        .function(object.program("xdp_first").unwrap().function)
        .unwrap();
    let relo = first.core_relocations.first().unwrap();
    let insn = &first.insns[relo.insn_off as usize / 8];
    assert_eq!((insn.code, insn.off), (0x61, 12), "ldxw rX, [ctx + 12]");
    assert_eq!(relo.kind, bpf_core::btf::CoreReloKind::FieldByteOffset);
}

const CORE: &[u8] = include_bytes!("../../tests/bpf/obj/reloc_core.bpf.o");
const CORE_VMLINUX: &[u8] = include_bytes!("../../tests/bpf/obj/core/core_vmlinux.o");

/// What `has_core_relocations` should say: whether a function relocation linked carries records.
fn linked_core_records(object: &Object, program: &str) -> bool {
    let linked = object.relocate(program, &fds(object)).unwrap();
    object
        .functions
        .values()
        .filter(|f| linked.functions.iter().any(|(name, _)| *name == f.name))
        .any(|f| !f.core_relocations.is_empty())
}

#[test]
fn core_relocations_are_known_per_program_before_relocating() {
    for bytes in [CALLS, CORE, CORE_VMLINUX, PROGRAMS] {
        let object = Object::parse(bytes).unwrap();
        for program in &object.programs {
            assert_eq!(
                object.has_core_relocations(&program.name),
                linked_core_records(&object, &program.name),
                "{}",
                program.name
            );
        }
    }
    let calls = Object::parse(CALLS).unwrap();
    assert!(!calls.has_core_relocations("entry_calls"));
    assert!(!calls.has_core_relocations("no_such_program"));
    let vmlinux = Object::parse(CORE_VMLINUX).unwrap();
    assert!(vmlinux.has_core_relocations("syscall_nr"));
}

#[test]
fn core_relocations_of_a_called_function_count_for_the_caller() {
    let mut object = Object::parse(CORE).unwrap();
    assert!(object.has_core_relocations("read_tgid"));
    let entry = object.program("read_tgid").unwrap().function;
    object
        .functions
        .get_mut(&entry)
        .unwrap()
        .core_relocations
        .clear();
    assert!(
        object.has_core_relocations("read_tgid"),
        "missing_field_exists, called by read_tgid, has a field-exists record"
    );
    for function in object.functions.values_mut() {
        function.core_relocations.clear();
    }
    assert!(!object.has_core_relocations("read_tgid"));
}
