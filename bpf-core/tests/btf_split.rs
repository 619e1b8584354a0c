//! Split BTF (module on top of a base) and CO-RE candidates found in module BTF.

use std::sync::Arc;

use bpf_core::btf::core::{CoreTarget, relocate};
use bpf_core::btf::{Btf, BtfKind, CoreRelo, CoreReloKind, TypeKind};
use bpf_sys::generated::bpf_insn;

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn blob(types: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut out = vec![0x9f, 0xeb, 1, 0];
    out.extend(words(&[
        24,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ]));
    out.extend_from_slice(types);
    out.extend_from_slice(strings);
    out
}

/// Base: `int`, `struct shared { int a; }` at offset 0.
fn base() -> Arc<Btf> {
    let types = words(&[1, 1 << 24, 4, 32, 5, (4 << 24) | 1, 4, 12, 1, 0]);
    Arc::new(Btf::parse(&blob(&types, b"\0int\0shared\0a\0")).unwrap())
}

/// Module on top of `base`: `struct modonly { int pad; int a; }`; its strings continue the base's.
fn module(base: &Arc<Btf>) -> Btf {
    let str_base = 14; // length of the base string table
    let int = base.find_by_name_kind("int", BtfKind::Int).unwrap();
    let a = 12; // "a" in the base string table
    assert_eq!(base.string_at(a).unwrap(), "a");
    let types = words(&[
        str_base + 1,
        (4 << 24) | 2,
        8,
        str_base + 9,
        int,
        0,
        a,
        int,
        32,
    ]);
    Btf::parse_split(&blob(&types, b"\0modonly\0pad\0"), base.clone()).unwrap()
}

#[test]
fn split_btf_resolves_base_ids_and_strings() {
    let base = base();
    let module = module(&base);
    assert_eq!(module.first_id(), 3);
    let id = module
        .find_by_name_kind("modonly", BtfKind::Struct)
        .unwrap();
    assert_eq!(id, 3);
    let TypeKind::Struct(s) = module.type_by_id(id).unwrap().kind else {
        panic!()
    };
    let names: Vec<_> = s.members().map(|m| m.unwrap().name).collect();
    assert_eq!(
        names,
        ["pad", "a"],
        "member names come from both string tables"
    );
    assert_eq!(module.type_size(id).unwrap(), 8);
    assert_eq!(
        module.find_by_name_kind("shared", BtfKind::Struct),
        Some(2),
        "lookups see base types"
    );
    let again = Btf::parse_split(&module.to_bytes(), base.clone()).unwrap();
    assert_eq!(again.to_bytes(), module.to_bytes());
}

#[test]
fn module_types_are_candidates_when_vmlinux_has_none() {
    let base = base();
    let target = CoreTarget::new(base.clone(), vec![Arc::new(module(&base))]);
    relocate_modonly_and_shared(&target);
}

#[test]
fn lazy_module_btf_is_read_only_when_vmlinux_lacks_a_type() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let base = base();
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let module_base = base.clone();
    let target = CoreTarget::with_lazy_modules(base.clone(), move || {
        counted.fetch_add(1, Ordering::SeqCst);
        vec![Arc::new(module(&module_base))]
    });
    relocate_modonly_and_shared(&target);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "modules read once, when needed"
    );
    relocate_modonly_and_shared(&target);
    assert_eq!(reads.load(Ordering::SeqCst), 1, "and then kept");

    let untouched = CoreTarget::with_lazy_modules(base.clone(), || panic!("modules read"));
    let (local, [_, shared]) = local_object();
    let mut insns = [ldx()];
    let shared_at_0 = CoreRelo {
        insn_off: 0,
        ..shared
    };
    relocate(&mut insns, &[shared_at_0], &local, &untouched).unwrap();
    assert_eq!(insns[0].off, 0, "a vmlinux type needs no module");
}

fn ldx() -> bpf_insn {
    bpf_insn {
        code: 0x61,
        ..Default::default()
    }
}

fn local_object() -> (Btf, [CoreRelo; 2]) {
    // Local object: int, struct modonly { int a; }, struct shared { int a; }.
    let types = words(&[
        1,
        1 << 24,
        4,
        32,
        5,
        (4 << 24) | 1,
        4,
        13,
        1,
        0,
        15,
        (4 << 24) | 1,
        4,
        13,
        1,
        0,
    ]);
    let mut local = Btf::parse(&blob(&types, b"\0int\0modonly\0a\0shared\0")).unwrap();
    let access = local.add_string("0:0");
    let relos = [
        CoreRelo {
            insn_off: 0,
            type_id: 2,
            access_str_off: access,
            kind: CoreReloKind::FieldByteOffset,
        },
        CoreRelo {
            insn_off: 8,
            type_id: 3,
            access_str_off: access,
            kind: CoreReloKind::FieldByteOffset,
        },
    ];
    (local, relos)
}

fn relocate_modonly_and_shared(target: &CoreTarget) {
    let (local, relos) = local_object();
    let mut insns = [ldx(), ldx()];
    let report = relocate(&mut insns, &relos, &local, target).unwrap();
    assert_eq!(report.applied, 2);
    assert_eq!(insns[0].off, 4, "modonly.a found in the module BTF");
    assert_eq!(insns[1].off, 0, "shared.a found in vmlinux");
}
