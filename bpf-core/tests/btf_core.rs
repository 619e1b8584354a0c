//! CO-RE against tests/bpf/obj/core/core_fields{,.target}.o: exact patched values per relocation.

use std::collections::HashMap;

use bpf_core::btf::core::{CoreError, CoreReport, CoreTarget, POISON_HELPER_ID, relocate};
use bpf_core::btf::{Btf, BtfExt, BtfKind, CoreReloKind};
use bpf_sys::file_map::FileBytes;
use bpf_sys::generated::bpf_insn;
use object::{Object, ObjectSection};

const OBJ_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/bpf/obj/core/");

struct Loaded {
    btf: Btf,
    ext: BtfExt,
    sections: HashMap<String, Vec<u8>>,
}

fn load(name: &str) -> Loaded {
    let data = std::fs::read(format!("{OBJ_DIR}{name}")).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let mut sections = HashMap::new();
    for s in file.sections() {
        sections.insert(s.name().unwrap().to_string(), s.data().unwrap().to_vec());
    }
    let btf = Btf::parse(&sections[".BTF"]).unwrap();
    let ext = match sections.get(".BTF.ext") {
        Some(e) => BtfExt::parse(e, &btf).unwrap(),
        None => BtfExt::default(),
    };
    Loaded { btf, ext, sections }
}

fn decode(bytes: &[u8]) -> Vec<bpf_insn> {
    bytes
        .chunks_exact(8)
        .map(|c| bpf_insn {
            code: c[0],
            _bitfield_1: bpf_insn::new_bitfield_1(c[1] & 0xf, c[1] >> 4),
            off: i16::from_le_bytes([c[2], c[3]]),
            imm: i32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            ..Default::default()
        })
        .collect()
}

/// What a relocated instruction now says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Patched {
    Value(u64),
    Load { off: u64, size: u32 },
    Poisoned,
}

fn read_back(insns: &[bpf_insn], idx: usize) -> Patched {
    let i = insns[idx];
    if i.code == 0x85 && i.imm == POISON_HELPER_ID {
        return Patched::Poisoned;
    }
    match i.code & 7 {
        0 => Patched::Value(u64::from(i.imm as u32) | (u64::from(insns[idx + 1].imm as u32) << 32)),
        1..=3 => Patched::Load {
            off: i.off as u64,
            size: match i.code & 0x18 {
                0 => 4,
                8 => 2,
                0x10 => 1,
                _ => 8,
            },
        },
        _ => Patched::Value(u64::from(i.imm as u32)),
    }
}

struct Run {
    report: CoreReport,
    /// (relocation kind, local access string) → every patched result for it.
    results: Vec<(CoreReloKind, String, Patched)>,
}

fn run(section: &str) -> Result<Run, CoreError> {
    let local = load("core_fields.o");
    let target = load("core_fields.target.o");
    let target = CoreTarget::from_btf(target.btf);
    let mut insns = decode(&local.sections[section]);
    let relos = local.ext.core_relos_of(section);
    assert!(!relos.is_empty(), "{section} has no CO-RE relocations");
    let report = relocate(&mut insns, relos, &local.btf, &target)?;
    let results = relos
        .iter()
        .map(|r| {
            let access = local.btf.string_at(r.access_str_off).unwrap();
            let root = local.btf.type_name(r.type_id).unwrap();
            (
                r.kind,
                format!("{root}:{access}"),
                read_back(&insns, (r.insn_off / 8) as usize),
            )
        })
        .collect();
    Ok(Run { report, results })
}

fn expect(run: &Run, kind: CoreReloKind, access: &str, want: Patched) {
    let got: Vec<_> = run
        .results
        .iter()
        .filter(|(k, a, _)| *k == kind && a == access)
        .map(|r| r.2)
        .collect();
    assert!(
        !got.is_empty(),
        "no {kind:?} relocation for {access}; have {:?}",
        run.results
    );
    for g in got {
        assert_eq!(g, want, "{kind:?} {access}");
    }
}

use CoreReloKind::*;
use Patched::*;

#[test]
fn field_offsets_sizes_and_bitfields() {
    let r = run("tp/fields").unwrap();
    assert!(r.report.poisoned.is_empty(), "{:?}", r.report.poisoned);
    // struct sample field indices: x=0 y=1 in=2 arr=3 anon-union=4 bf1=5 bf2=6 sbf=7 widened=8 ...
    expect(&r, FieldByteOffset, "sample:0:0", Load { off: 8, size: 4 });
    expect(&r, FieldByteOffset, "sample:0:1", Load { off: 16, size: 8 });
    expect(
        &r,
        FieldByteOffset,
        "sample:0:2:1",
        Load { off: 36, size: 4 },
    );
    expect(
        &r,
        FieldByteOffset,
        "sample:0:3:3",
        Load { off: 52, size: 4 },
    );
    expect(
        &r,
        FieldByteOffset,
        "sample:0:4:1",
        Load { off: 72, size: 8 },
    );
    // Unsigned int widened to unsigned long: the load grows to 8 bytes.
    expect(&r, FieldByteOffset, "sample:0:8", Load { off: 88, size: 8 });
    expect(
        &r,
        FieldByteOffset,
        "sample:0:11",
        Load { off: 104, size: 8 },
    );
    // Bitfields at bit 647 (3 bits), 650 (6 bits), 656 (4 bits, signed) of the target.
    expect(&r, FieldByteOffset, "sample:0:5", Value(80));
    expect(&r, FieldByteSize, "sample:0:5", Value(4));
    expect(&r, FieldLShiftU64, "sample:0:5", Value(54));
    expect(&r, FieldRShiftU64, "sample:0:5", Value(61));
    expect(&r, FieldLShiftU64, "sample:0:6", Value(48));
    expect(&r, FieldRShiftU64, "sample:0:6", Value(58));
    expect(&r, FieldLShiftU64, "sample:0:7", Value(44));
    expect(&r, FieldRShiftU64, "sample:0:7", Value(60));
    expect(&r, FieldSigned, "sample:0:7", Value(1));
    expect(&r, FieldSigned, "sample:0:5", Value(0));
    expect(&r, FieldByteSize, "sample:0:2", Value(16));
    expect(&r, FieldByteOffset, "sample:0:3:2", Value(48));
    expect(&r, FieldExists, "sample:0:1", Value(1));
    // A store: `s->in.a = 1` (ST) lands on the target's in.a.
    expect(
        &r,
        FieldByteOffset,
        "sample:0:2:0",
        Load { off: 32, size: 4 },
    );
}

#[test]
fn missing_fields_poison_and_exists_is_zero() {
    let r = run("tp/missing").unwrap();
    expect(&r, FieldExists, "sample:0:10", Value(0));
    expect(&r, FieldByteOffset, "sample:0:10", Poisoned);
    // int → long changes a signed load's size: poisoned, not silently truncated.
    expect(&r, FieldByteOffset, "sample:0:9", Poisoned);
    let accesses: Vec<_> = r
        .report
        .poisoned
        .iter()
        .map(|p| p.access.as_str())
        .collect();
    assert!(accesses.contains(&"sample.missing"), "{accesses:?}");
    assert!(accesses.contains(&"sample.signed_widened"), "{accesses:?}");
}

#[test]
fn type_relocations() {
    let r = run("tp/types").unwrap();
    let target = load("core_fields.target.o").btf;
    let local = load("core_fields.o").btf;
    let target_id = target.find_by_name_kind("sample", BtfKind::Struct).unwrap();
    let local_id = local.find_by_name_kind("sample", BtfKind::Struct).unwrap();
    expect(&r, TypeExists, "sample:0", Value(1));
    expect(&r, TypeExists, "only_local:0", Value(0));
    expect(&r, TypeSize, "sample:0", Value(112));
    expect(&r, TypeIdTarget, "sample:0", Value(u64::from(target_id)));
    expect(&r, TypeIdLocal, "sample:0", Value(u64::from(local_id)));
    expect(&r, TypeMatches, "tm_same:0", Value(1));
    expect(&r, TypeMatches, "tm_diff:0", Value(0));
}

#[test]
fn enum_relocations() {
    let r = run("tp/enums").unwrap();
    expect(&r, EnumValueExists, "color:1", Value(1));
    expect(&r, EnumValueValue, "color:1", Value(9));
    expect(&r, EnumValueExists, "color:3", Value(0));
    expect(&r, EnumValueValue, "color:3", Poisoned);
    expect(&r, EnumValueValue, "big64:0", Value(0x3_0000_0000));
    // Negative values: compared and patched sign-extended, whichever instruction carries them.
    let neg: Vec<_> = r
        .results
        .iter()
        .filter(|(k, a, _)| *k == EnumValueValue && a == "neg:0")
        .collect();
    assert!(!neg.is_empty());
    for (_, _, v) in neg {
        assert!(matches!(v, Value(x) if *x as u32 as i32 == -9), "{v:?}");
    }
    assert_eq!(r.report.poisoned.len(), 1);
    assert_eq!(r.report.poisoned[0].access, "color::PURPLE");
}

#[test]
fn flavored_local_type_matches_plain_target() {
    let r = run("tp/flavors").unwrap();
    expect(
        &r,
        FieldByteOffset,
        "flavored___v2:0:0",
        Load { off: 8, size: 4 },
    );
}

#[test]
fn flexible_array_member_relocates_past_its_zero_length() {
    let r = run("tp/fam").unwrap();
    assert!(r.report.poisoned.is_empty());
    expect(&r, FieldByteOffset, "fam:0:1:5", Load { off: 56, size: 8 });
    expect(&r, FieldByteOffset, "fam:0:0", Load { off: 8, size: 4 });
}

#[test]
fn ambiguous_candidates_are_an_error() {
    match run("tp/ambiguous") {
        Err(CoreError::Ambiguous { access, .. }) => assert_eq!(access, "amb.x"),
        Err(e) => panic!("wrong error {e}"),
        Ok(r) => panic!("expected ambiguity, got {:?}", r.results),
    }
}

/// Member byte offset found by walking the target BTF directly (independent of the spec code).
fn member_offset(btf: &Btf, struct_name: &str, member: &str) -> u64 {
    let id = btf.find_by_name_kind(struct_name, BtfKind::Struct).unwrap();
    let bpf_core::btf::TypeKind::Struct(c) = btf.type_by_id(id).unwrap().kind else {
        unreachable!()
    };
    let m = c
        .members()
        .map(Result::unwrap)
        .find(|m| m.name == member)
        .unwrap();
    u64::from(m.bit_offset / 8)
}

#[test]
fn vmlinux_programs_relocate_against_running_kernel() {
    let path = "/sys/kernel/btf/vmlinux";
    if std::fs::metadata(path).is_err() {
        println!("SKIPPED btf_core::vmlinux_programs_relocate_against_running_kernel: no {path}");
        return;
    }
    let target = CoreTarget::from_btf(
        Btf::parse_shared(
            std::sync::Arc::new(FileBytes::read(path).expect("read vmlinux")),
            None,
        )
        .unwrap(),
    );
    let local = load("core_vmlinux.o");
    // The program reads task_struct's state under either name (`__state` since 5.14), each
    // guarded by field_exists: the name this kernel lacks is the one poisoned.
    let has_new_state = {
        let btf = target.btf();
        let id = btf
            .find_by_name_kind("task_struct", bpf_core::btf::BtfKind::Struct)
            .unwrap();
        let bpf_core::btf::TypeKind::Struct(task) = btf.type_by_id(id).unwrap().kind else {
            panic!("task_struct is a struct");
        };
        task.members()
            .map(Result::unwrap)
            .any(|member| member.name == "__state")
    };
    let missing = if has_new_state {
        "task_struct___old.state"
    } else {
        "task_struct.__state"
    };
    let mut seen = HashMap::new();
    for sec in &local.ext.core_relos {
        let mut insns = decode(&local.sections[&sec.name]);
        let report = relocate(&mut insns, &sec.records, &local.btf, &target).unwrap();
        for r in &sec.records {
            let access = format!(
                "{}:{}",
                local.btf.type_name(r.type_id).unwrap(),
                local.btf.string_at(r.access_str_off).unwrap()
            );
            seen.insert(
                (r.kind, access),
                read_back(&insns, (r.insn_off / 8) as usize),
            );
        }
        for p in &report.poisoned {
            assert_eq!(p.access, missing, "{}: unexpected poison {p:?}", sec.name);
        }
    }
    let btf = target.btf();
    let get = |kind, access: &str| {
        *seen
            .get(&(kind, access.to_string()))
            .unwrap_or_else(|| panic!("{access}: {seen:?}"))
    };
    let pid = member_offset(btf, "task_struct", "pid");
    let found_pid = seen.iter().any(|((k, a), v)| {
        *k == FieldByteOffset
            && a.starts_with("task_struct:")
            && matches!(v, Value(o) | Load { off: o, .. } if *o == pid)
    });
    assert!(
        found_pid,
        "no relocation resolved to task_struct.pid's offset {pid}: {seen:?}"
    );
    assert_eq!(
        get(FieldExists, "task_struct___old:0:0"),
        Value(u64::from(!has_new_state))
    );
    // Flexible array: args[1] of struct bpf_raw_tracepoint_args { __u64 args[0]; }.
    assert_eq!(
        get(FieldByteOffset, "bpf_raw_tracepoint_args:0:0:1"),
        Load { off: 8, size: 8 }
    );
    assert_eq!(get(TypeExists, "task_struct:0"), Value(1));
    let task = btf
        .find_by_name_kind("task_struct", BtfKind::Struct)
        .unwrap();
    assert_eq!(
        get(TypeSize, "task_struct:0"),
        Value(u64::from(btf.type_size(task).unwrap()))
    );
    assert_eq!(get(EnumValueValue, "bpf_map_type:2"), Value(2));
}
