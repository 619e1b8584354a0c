//! The struct_ops test object's congestion control laid out for the running kernel's
//! `bpf_struct_ops_tcp_congestion_ops`, whose member order differs from the object's.

use bpf_core::btf::{Btf, BtfKind, TypeKind};
use bpf_core::obj::{Object, StructOpsLayoutError, StructOpsProgramError};
use bpf_sys::file_map::FileBytes;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Byte offset of `member` in kernel struct `name`.
fn member_offset(btf: &Btf, name: &str, member: &str) -> u32 {
    let id = btf.find_by_name_kind(name, BtfKind::Struct).unwrap();
    let TypeKind::Struct(s) = btf.type_by_id(id).unwrap().kind else {
        panic!("`{name}` is not a struct");
    };
    s.members()
        .map(Result::unwrap)
        .find(|m| m.name == member)
        .unwrap_or_else(|| panic!("no `{name}.{member}`"))
        .bit_offset
        / 8
}

/// The running kernel's BTF, or `None` after `test`'s SKIPPED line where it has none.
fn kernel_btf(test: &str) -> Option<Btf> {
    if std::fs::metadata(VMLINUX).is_err() {
        println!("SKIPPED {test}: no {VMLINUX}");
        return None;
    }
    let bytes = FileBytes::read(VMLINUX).expect("read vmlinux");
    Some(Btf::parse_shared(std::sync::Arc::new(bytes), None).unwrap())
}

#[test]
fn tcp_congestion_ops_is_laid_out_for_the_running_kernel() {
    let Some(kernel) =
        kernel_btf("struct_ops_layout::tcp_congestion_ops_is_laid_out_for_the_running_kernel")
    else {
        return;
    };
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/struct_ops_cc.bpf.o")).unwrap();
    let map = object.map("bpf_test_cc").unwrap();
    let ops = map.struct_ops.as_ref().unwrap();
    let layout = ops
        .kernel_layout(object.btf.as_ref().unwrap(), &map.data, &kernel)
        .unwrap();

    let data = member_offset(&kernel, "bpf_struct_ops_tcp_congestion_ops", "data") as usize;
    let name = data + member_offset(&kernel, "tcp_congestion_ops", "name") as usize;
    assert_eq!(&layout.value[name..name + 12], b"bpf_test_cc\0");
    assert_eq!(layout.member("name").unwrap().len(), 16);
    assert_eq!(
        layout.value.len() as u32,
        kernel.type_size(layout.value_type_id).unwrap()
    );
    assert_eq!(
        kernel.type_name(layout.type_id).unwrap(),
        "tcp_congestion_ops"
    );

    let mut slots: Vec<(&str, &str)> = layout
        .programs
        .iter()
        .map(|s| (s.member.as_str(), s.program.as_str()))
        .collect();
    slots.sort_unstable();
    assert_eq!(
        slots,
        [
            ("cong_avoid", "test_cc_cong_avoid"),
            ("init", "test_cc_init"),
            ("ssthresh", "test_cc_ssthresh"),
            ("undo_cwnd", "test_cc_undo_cwnd"),
        ]
    );
    for slot in &layout.programs {
        let offset = data as u32 + member_offset(&kernel, "tcp_congestion_ops", &slot.member);
        assert_eq!(slot.value_offset, offset, "{}", slot.member);
        let TypeKind::Struct(s) = kernel.type_by_id(layout.type_id).unwrap().kind else {
            unreachable!()
        };
        let member = s.member(slot.member_index as usize).unwrap();
        assert_eq!(member.name, slot.member);
    }
    assert!(layout.dropped_programs.is_empty());
}

/// A struct_ops program's attach target comes from the maps pointing at it: the kernel
/// struct's id and the member's index there, the same through both maps of the object.
#[test]
fn struct_ops_programs_attach_to_their_member_of_the_kernel_struct() {
    const TEST: &str =
        "struct_ops_layout::struct_ops_programs_attach_to_their_member_of_the_kernel_struct";
    let Some(kernel) = kernel_btf(TEST) else {
        return;
    };
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/struct_ops_cc.bpf.o")).unwrap();
    let ops_id = kernel
        .find_by_name_kind("tcp_congestion_ops", BtfKind::Struct)
        .unwrap();
    let TypeKind::Struct(ops) = kernel.type_by_id(ops_id).unwrap().kind else {
        unreachable!()
    };
    let index_of = |member: &str| {
        ops.members()
            .position(|m| m.unwrap().name == member)
            .unwrap() as u32
    };
    for (program, member) in [("test_cc_init", "init"), ("test_cc_ssthresh", "ssthresh")] {
        let attach = object.struct_ops_attach(program, &kernel).unwrap();
        assert_eq!(
            (attach.type_id, attach.member_index),
            (ops_id, index_of(member)),
            "{program}"
        );
    }
    assert_eq!(
        object.struct_ops_attach("no_such_program", &kernel),
        Err(StructOpsProgramError::NotInAnyMap {
            program: "no_such_program".to_owned()
        })
    );

    let missing = Object::parse(include_bytes!(
        "../../tests/bpf/obj/struct_ops_missing.bpf.o"
    ))
    .unwrap();
    assert!(matches!(
        missing.struct_ops_attach("missing_run", &kernel),
        Err(StructOpsProgramError::Layout {
            source: StructOpsLayoutError::NoKernelStruct { .. },
            ..
        })
    ));
}
