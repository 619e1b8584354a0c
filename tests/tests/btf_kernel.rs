//! Parses and round-trips the running kernel's BTF (vmlinux and every module's split BTF): in the
//! integration tests so the guests' kernels (and their modules) are covered too.

use std::sync::Arc;

use bpf_core::btf::{Btf, BtfKind, TypeKind};
use bpf_programs::btf::{read_btf_file, read_split_btf_file};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Decodes every type and every member/value/param name; returns how many names were read.
fn decode_all(btf: &Btf) -> usize {
    let mut names = 0;
    for id in btf.first_id()..btf.end_id() {
        let t = btf
            .type_by_id(id)
            .unwrap_or_else(|e| panic!("type {id}: {e}"));
        match t.kind {
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                for m in c.members() {
                    assert!(m.unwrap().type_id < btf.end_id());
                    names += 1;
                }
            }
            TypeKind::Enum(e) | TypeKind::Enum64(e) => {
                names += e.values().inspect(|v| assert!(v.is_ok())).count()
            }
            TypeKind::FuncProto(p) => names += p.params().inspect(|p| assert!(p.is_ok())).count(),
            _ => {}
        }
        if let Some(target) = t.kind.target() {
            assert!(target < btf.end_id(), "type {id} refers to {target}");
        }
        names += 1;
    }
    names
}

/// The parsed vmlinux BTF, or `None` after printing `test`'s SKIPPED line where it is missing.
fn vmlinux(test: &str) -> Option<Btf> {
    match std::fs::metadata(VMLINUX) {
        Ok(_) => Some(read_btf_file(VMLINUX).expect("parse vmlinux")),
        Err(e) => {
            println!("SKIPPED btf_kernel::{test}: {VMLINUX}: {e}");
            None
        }
    }
}

#[test]
fn vmlinux_parses_and_round_trips() {
    let Some(btf) = vmlinux("vmlinux_parses_and_round_trips") else {
        return;
    };
    assert!(btf.len() > 1000, "only {} types", btf.len());
    assert!(decode_all(&btf) > btf.len() as usize);
    let bytes = btf.to_bytes();
    let again = Btf::parse(&bytes).expect("reparse");
    assert_eq!(again.len(), btf.len());
    assert_eq!(again.to_bytes(), bytes);
    for id in (1..btf.end_id()).step_by(97) {
        assert_eq!(
            format!("{:?}", btf.type_by_id(id).unwrap()),
            format!("{:?}", again.type_by_id(id).unwrap())
        );
    }
    let original = std::fs::read(VMLINUX).unwrap();
    assert_eq!(
        bytes, original,
        "kernel BTF is already canonical, so marshalling must reproduce it"
    );
}

#[test]
fn vmlinux_from_file_can_be_extended() {
    let Some(mut btf) = vmlinux("vmlinux_from_file_can_be_extended") else {
        return;
    };
    let shared = btf.clone();
    let task = btf.find_by_name_kind("task_struct", BtfKind::Struct);
    assert!(task.is_some());
    let id = btf.add_int("bpf_core_test_int", 4, 0, 32);
    assert_eq!(id, shared.end_id());
    assert_eq!(btf.type_name(id).unwrap(), "bpf_core_test_int");
    assert_eq!(btf.find_by_name_kind("task_struct", BtfKind::Struct), task);
    assert_eq!(shared.to_bytes(), std::fs::read(VMLINUX).unwrap());
}

#[test]
fn vmlinux_lookups() {
    let Some(btf) = vmlinux("vmlinux_lookups") else {
        return;
    };
    let task = btf
        .find_by_name_kind("task_struct", BtfKind::Struct)
        .expect("task_struct");
    let TypeKind::Struct(s) = btf.type_by_id(task).unwrap().kind else {
        panic!("not a struct")
    };
    assert!(s.members().any(|m| m.unwrap().name == "pid"));
    assert_eq!(btf.type_size(task).unwrap(), s.size);
    let pid_t = btf
        .find_by_name_kind("pid_t", BtfKind::Typedef)
        .expect("pid_t");
    assert_eq!(btf.type_size(pid_t).unwrap(), 4);
    assert_eq!(btf.type_align(pid_t).unwrap(), 4);
    assert_eq!(btf.kind(btf.resolve(pid_t).unwrap()).unwrap(), BtfKind::Int);
    assert!(
        btf.find_by_name_kind("task_struct", BtfKind::Union)
            .is_none()
    );
    assert!(
        btf.find_by_name_kind("no_such_type_anywhere", BtfKind::Struct)
            .is_none()
    );
}

#[test]
fn module_btf_parses_and_round_trips() {
    let Some(base) = vmlinux("module_btf_parses_and_round_trips") else {
        return;
    };
    let base = Arc::new(base);
    let mut modules = 0;
    for entry in std::fs::read_dir("/sys/kernel/btf").unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "vmlinux") {
            continue;
        }
        let btf = read_split_btf_file(&path, base.clone())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(btf.first_id(), base.end_id());
        decode_all(&btf);
        let bytes = btf.to_bytes();
        let again = Btf::parse_split(&bytes, base.clone()).unwrap();
        assert_eq!(again.to_bytes(), bytes);
        assert_eq!(again.end_id(), btf.end_id());
        modules += 1;
    }
    if modules == 0 {
        println!(
            "SKIPPED btf_kernel::module_btf_parses_and_round_trips: no module BTF under /sys/kernel/btf"
        );
    }
}
