//! The verifier accepts what relocation produces, and the programs compute what their C says:
//! maps are created from the object's definitions, programs relocated with the fds, loaded and
//! run with BPF_PROG_TEST_RUN.

use std::collections::HashMap;
use std::os::fd::AsRawFd;

use bpf_core::obj::{MapKind, Object};
use bpf_core::relocation::{Bindings, MapReference};
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::prog::{ProgLoadAttr, prog_load};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};

/// Whether this process's effective capabilities (`CapEff`) hold capability number `cap`.
fn has_capability(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap();
    eff & (1 << cap) != 0
}

/// True (after printing `test`'s SKIPPED line) when this process may not create maps and load
/// programs: neither CAP_BPF (39) nor CAP_SYS_ADMIN (21). Any other refusal fails the test.
fn skipped_without_bpf_capability(test: &str) -> bool {
    if has_capability(39) || has_capability(21) {
        return false;
    }
    println!("SKIPPED obj_kernel_load::{test}: neither CAP_BPF nor CAP_SYS_ADMIN (CapEff)");
    true
}

/// Whether the running kernel's BTF has the name `name` (an enumerator such as `BPF_FUNC_loop`)
/// in its string table: what the kernel was built with, read without this crate.
fn kernel_btf_has_name(name: &str) -> bool {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default();
    let needle: Vec<u8> = [&[0u8][..], name.as_bytes(), &[0]].concat();
    btf.windows(needle.len()).any(|window| window == needle)
}

/// The kernel's BTF, or `None` after printing `test`'s SKIPPED line where it has none.
fn vmlinux(test: &str) -> Option<bpf_core::btf::Btf> {
    const PATH: &str = "/sys/kernel/btf/vmlinux";
    match bpf_sys::file_map::FileBytes::read(PATH) {
        Ok(bytes) => Some(
            bpf_core::btf::Btf::parse_shared(std::sync::Arc::new(bytes), None)
                .unwrap_or_else(|e| panic!("{PATH}: {e}")),
        ),
        Err(e) if !std::path::Path::new(PATH).exists() => {
            println!("SKIPPED obj_kernel_load::{test}: no {PATH} (CONFIG_DEBUG_INFO_BTF): {e}");
            None
        }
        Err(e) => panic!("{PATH}: {e}"),
    }
}

/// Creates every plain map of `object` (data, hash, array) with its initial contents.
fn create_maps(object: &Object) -> Result<HashMap<String, MapFd>, String> {
    let mut maps = HashMap::new();
    for map in object
        .maps
        .iter()
        .filter(|m| m.def.inner.is_none() && m.kind != MapKind::StructOps)
    {
        let fd = MapFd::create(&MapCreateAttr {
            map_type: map.def.map_type,
            key_size: map.def.key_size,
            value_size: map.def.value_size,
            max_entries: map.def.max_entries,
            map_flags: map.def.map_flags,
            ..MapCreateAttr::default()
        })
        .map_err(|e| format!("creating map {}: {e}", map.name))?;
        if map.has_initial_data() {
            fd.update(&0u32.to_ne_bytes(), &map.data, 0)
                .map_err(|e| e.to_string())?;
        }
        if map.frozen() {
            fd.freeze().map_err(|e| e.to_string())?;
        }
        maps.insert(map.name.clone(), fd);
    }
    Ok(maps)
}

/// Loads and runs XDP program `name` once on a small packet; returns its return value and maps.
fn run_xdp(object: &Object, name: &str) -> (u32, HashMap<String, MapFd>) {
    run_xdp_with(object, name, false)
}

/// As [`run_xdp`]; with `with_btf`, the object's raw `.BTF` is loaded and func/line info passed.
fn run_xdp_with(object: &Object, name: &str, with_btf: bool) -> (u32, HashMap<String, MapFd>) {
    let maps = create_maps(object).unwrap();
    let mut bindings = Bindings::default();
    for (map, fd) in &maps {
        bindings
            .maps
            .insert(map.clone(), MapReference::Fd(fd.fd().as_raw_fd()));
    }
    let program = object.relocate(name, &bindings).unwrap();
    let section = &object.program(name).unwrap().section;
    let btf = with_btf.then(|| {
        bpf_sys::btf::btf_load(&object.btf.as_ref().unwrap().to_bytes(), 1, None)
            .unwrap_or_else(|e| panic!("kernel rejected the object's BTF: {e}"))
    });
    let (func_info, line_info) = (program.func_info_bytes(), program.line_info_bytes());
    let fd = prog_load(&ProgLoadAttr {
        prog_btf_fd: btf.as_ref().map(std::os::fd::AsFd::as_fd),
        func_info: if with_btf { &func_info } else { &[] },
        func_info_rec_size: program.func_info_rec_size,
        line_info: if with_btf { &line_info } else { &[] },
        line_info_rec_size: program.line_info_rec_size,
        prog_type: section.prog_type().unwrap(),
        expected_attach_type: section.expected_attach_type().unwrap_or(0),
        name,
        insns: &program.insns,
        license: object.license.as_deref().unwrap_or("GPL"),
        ..ProgLoadAttr::default()
    })
    .unwrap_or_else(|e| panic!("verifier rejected {name}: {e}"));
    let packet = [0u8; 64];
    let output = prog_test_run(
        fd.as_fd_ref(),
        TestRunAttr {
            data_in: &packet,
            ..TestRunAttr::default()
        },
    )
    .unwrap();
    (output.retval, maps)
}

trait AsFdRef {
    fn as_fd_ref(&self) -> std::os::fd::BorrowedFd<'_>;
}

impl AsFdRef for std::os::fd::OwnedFd {
    fn as_fd_ref(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self)
    }
}

fn value(maps: &HashMap<String, MapFd>, map: &str, offset: usize, size: usize) -> Vec<u8> {
    let fd = &maps[map];
    let mut buf = vec![0u8; fd.value_size() as usize];
    assert!(fd.lookup(&0u32.to_ne_bytes(), &mut buf, 0).unwrap());
    buf[offset..offset + size].to_vec()
}

#[test]
fn global_data_with_constants_set_before_load() {
    let mut object =
        Object::parse(include_bytes!("../../tests/bpf/obj/parse_globals.bpf.o")).unwrap();
    object
        .set_global("threshold", &99u32.to_le_bytes())
        .unwrap();
    if skipped_without_bpf_capability("global_data_with_constants_set_before_load") {
        return;
    }
    let (retval, maps) = run_xdp(&object, "use_globals");
    let var = |name: &str| {
        object
            .maps
            .iter()
            .find_map(|m| m.variable(name).map(|v| (m.name.clone(), v.clone())))
            .unwrap()
    };
    let (map, counter) = var("counter");
    assert_eq!(
        value(&maps, &map, counter.offset as usize, 4),
        8i32.to_le_bytes(),
        "counter 7 + 1"
    );
    let (map, hits) = var("hits");
    assert_eq!(
        value(&maps, &map, hits.offset as usize, 8),
        99u64.to_le_bytes(),
        "hits += threshold (set to 99)"
    );
    let (map, table) = var("big_table");
    assert_eq!(
        value(&maps, &map, table.offset as usize + 24, 8),
        0x1122334455667788u64.to_le_bytes()
    );
    let (map, custom) = var("custom_data");
    assert_eq!(
        value(&maps, &map, custom.offset as usize, 4),
        (42i32 + i32::from(b'b')).to_le_bytes()
    );
    let (map, statik) = var("static_counter");
    assert_eq!(
        value(&maps, &map, statik.offset as usize, 4),
        4i32.to_le_bytes()
    );
    assert_eq!(retval, 2, "XDP_PASS: hits 99 > static_counter 4");
}

#[test]
fn static_and_global_subprograms_run() {
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o")).unwrap();
    if skipped_without_bpf_capability("static_and_global_subprograms_run") {
        return;
    }
    let (retval, maps) = run_xdp(&object, "entry_calls");
    // global_sub(1) adds 1 to results[0] and returns 2; middle(2) = 35 is odd → XDP_PASS.
    assert_eq!(value(&maps, "results", 0, 8), 1u64.to_le_bytes());
    assert_eq!(retval, 2);
}

#[test]
fn subprograms_in_other_sections_run() {
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/parse_programs.bpf.o")).unwrap();
    if skipped_without_bpf_capability("subprograms_in_other_sections_run") {
        return;
    }
    // other_section_helper(rx_queue_index 0) = 0x5a is even → XDP_DROP (1).
    let (retval, _) = run_xdp(&object, "xdp_second");
    assert_eq!(retval, 1);
    // global_helper(ingress_ifindex) = 3 * ifindex + 1 + 2 > 0 → XDP_PASS.
    let (retval, _) = run_xdp(&object, "xdp_first");
    assert_eq!(retval, 2);
}

#[test]
fn bpf_loop_callbacks_run_with_func_info() {
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/reloc_calls.bpf.o")).unwrap();
    if skipped_without_bpf_capability("bpf_loop_callbacks_run_with_func_info") {
        return;
    }
    if !kernel_btf_has_name("BPF_FUNC_loop") {
        println!(
            "SKIPPED obj_kernel_load::bpf_loop_callbacks_run_with_func_info: the kernel has no \
             bpf_loop (no BPF_FUNC_loop in its BTF; Linux 5.17)"
        );
        return;
    }
    let (retval, maps) = run_xdp_with(&object, "entry_loop", true);
    // loop_body adds middle(i) = 14i + 7 for i < 8 (448); other_body adds 0..=4 (10).
    assert_eq!(value(&maps, ".bss", 0, 8), 458u64.to_le_bytes());
    assert_eq!(retval, 2);
}

fn create(def: &bpf_core::obj::MapDef, inner: Option<&MapFd>) -> MapFd {
    MapFd::create(&MapCreateAttr {
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        map_extra: def.map_extra,
        inner_map_fd: inner.map(MapFd::fd),
        ..MapCreateAttr::default()
    })
    .unwrap()
}

#[test]
fn legacy_btf_map_in_map_and_prog_array_slots_work_together() {
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/parse_maps.bpf.o")).unwrap();
    if skipped_without_bpf_capability("legacy_btf_map_in_map_and_prog_array_slots_work_together") {
        return;
    }
    if !kernel_btf_has_name("BPF_MAP_TYPE_BLOOM_FILTER") {
        println!(
            "SKIPPED obj_kernel_load::legacy_btf_map_in_map_and_prog_array_slots_work_together: \
             parse_maps.bpf.o has a bloom filter, which the kernel lacks (no \
             BPF_MAP_TYPE_BLOOM_FILTER in its BTF; Linux 5.16)"
        );
        return;
    }
    let mut maps: HashMap<String, MapFd> = HashMap::new();
    for map in &object.maps {
        let template = map.def.inner.as_deref().map(|inner| create(inner, None));
        maps.insert(map.name.clone(), create(&map.def, template.as_ref()));
    }
    let mut bindings = Bindings::default();
    for (name, fd) in &maps {
        bindings
            .maps
            .insert(name.clone(), MapReference::Fd(fd.fd().as_raw_fd()));
    }
    let mut programs = HashMap::new();
    for program in &object.programs {
        let relocated = object.relocate(&program.name, &bindings).unwrap();
        let fd = prog_load(&ProgLoadAttr {
            prog_type: program.section.prog_type().unwrap(),
            name: &program.name,
            insns: &relocated.insns,
            license: object.license.as_deref().unwrap(),
            ..ProgLoadAttr::default()
        })
        .unwrap_or_else(|e| panic!("verifier rejected {}: {e}", program.name));
        programs.insert(program.name.clone(), fd);
    }
    for map in &object.maps {
        for slot in &map.initial_slots {
            let raw = match &slot.target {
                bpf_core::obj::SlotTarget::Program(p) => programs[p].as_raw_fd(),
                bpf_core::obj::SlotTarget::Map(m) => maps[m].fd().as_raw_fd(),
            };
            maps[&map.name]
                .update(&slot.index.to_ne_bytes(), &(raw as u32).to_ne_bytes(), 0)
                .unwrap();
        }
    }
    // outer[0] = inner_a; inner_a[0] = 5 is added to the total if the slot took.
    maps["inner_a"]
        .update(&0u32.to_ne_bytes(), &5u32.to_ne_bytes(), 0)
        .unwrap();
    let packet = [0u8; 64];
    let run = prog_test_run(
        programs["use_maps"].as_fd_ref(),
        TestRunAttr {
            data_in: &packet,
            ..TestRunAttr::default()
        },
    )
    .unwrap();
    // The tail call to jump_table[0] = tail_one returns 1; without it the total (5 + 2) comes back.
    assert_eq!(run.retval, 1);
    maps["jump_table"].delete(&0u32.to_ne_bytes()).unwrap();
    let run = prog_test_run(
        programs["use_maps"].as_fd_ref(),
        TestRunAttr {
            data_in: &packet,
            ..TestRunAttr::default()
        },
    )
    .unwrap();
    assert_eq!(
        run.retval, 7,
        "inner_a value 5 via outer[0], plus legacy_array and sized_array hits"
    );
}

fn kallsyms_address(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/kallsyms").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let (address, _, symbol) = (parts.next()?, parts.next()?, parts.next()?);
        (symbol == name)
            .then(|| u64::from_str_radix(address, 16).ok())
            .flatten()
    })
}

/// Loads the relocated syscall program `name` of `object` (sleepable, with the object's BTF)
/// and runs it once.
fn load_and_run_syscall(object: &Object, name: &str, bindings: &Bindings) {
    let program = object.relocate(name, bindings).unwrap();
    let btf = bpf_sys::btf::btf_load(&object.btf.as_ref().unwrap().to_bytes(), 1, None)
        .unwrap_or_else(|e| panic!("kernel rejected the fixed-up BTF with .kconfig/.ksyms: {e}"));
    let (func_info, line_info) = (program.func_info_bytes(), program.line_info_bytes());
    let section = &object.program(name).unwrap().section;
    let fd = prog_load(&ProgLoadAttr {
        prog_type: section.prog_type().unwrap(),
        prog_flags: 1 << 4, // BPF_F_SLEEPABLE: syscall programs may sleep
        name,
        insns: &program.insns,
        license: "GPL",
        prog_btf_fd: Some(std::os::fd::AsFd::as_fd(&btf)),
        func_info: &func_info,
        func_info_rec_size: program.func_info_rec_size,
        line_info: &line_info,
        line_info_rec_size: program.line_info_rec_size,
        ..ProgLoadAttr::default()
    })
    .unwrap_or_else(|e| panic!("verifier rejected {name}: {e}"));
    prog_test_run(fd.as_fd_ref(), TestRunAttr::default()).unwrap();
}

fn map_bindings(maps: &HashMap<String, MapFd>) -> Bindings {
    let mut bindings = Bindings::default();
    for (map, fd) in maps {
        bindings
            .maps
            .insert(map.clone(), MapReference::Fd(fd.fd().as_raw_fd()));
    }
    bindings
}

#[test]
fn externs_resolve_against_the_running_kernel() {
    use bpf_core::btf::BtfKind;
    use bpf_core::relocation::KsymValue;
    const TEST: &str = "externs_resolve_against_the_running_kernel";
    if skipped_without_bpf_capability(TEST) {
        return;
    }
    let Some(vmlinux) = vmlinux(TEST) else {
        return;
    };
    let init_task = match kallsyms_address("init_task") {
        Some(0) => {
            println!(
                "SKIPPED obj_kernel_load::{TEST}: /proc/kallsyms hides addresses (kptr_restrict)"
            );
            return;
        }
        Some(address) => address,
        None => {
            println!(
                "SKIPPED obj_kernel_load::{TEST}: init_task is not in /proc/kallsyms (data \
                 symbols need CONFIG_KALLSYMS_ALL)"
            );
            return;
        }
    };
    let mut object =
        Object::parse(include_bytes!("../../tests/bpf/obj/reloc_externs.bpf.o")).unwrap();
    let values: HashMap<String, String> = [
        ("LINUX_KERNEL_VERSION", "396288"),
        ("CONFIG_BPF_SYSCALL", "y"),
        ("CONFIG_NET_SCH_INGRESS", "m"),
        ("CONFIG_HZ", "250"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    object.fill_kconfig(&values).unwrap();
    let maps = create_maps(&object).unwrap();
    let mut bindings = map_bindings(&maps);
    let Some(var) = vmlinux.find_by_name_kind("bpf_prog_active", BtfKind::Var) else {
        println!(
            "SKIPPED obj_kernel_load::{TEST}: the kernel's BTF describes no variable \
             bpf_prog_active (per-CPU variables reach BTF with pahole 1.18)"
        );
        return;
    };
    bindings.ksyms.insert(
        "bpf_prog_active".into(),
        KsymValue::BtfId {
            btf_id: var,
            btf_obj_fd: 0,
        },
    );
    bindings
        .ksyms
        .insert("init_task".into(), KsymValue::Address(init_task));
    load_and_run_syscall(&object, "use_externs", &bindings);
    let out: Vec<u64> = value(&maps, ".bss", 0, 64)
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        &out[..5],
        &[396288, 1, 2, 250, 0],
        "kconfig values as the program read them"
    );
    assert_eq!(out[5], init_task, "typeless ksym address");
    assert_eq!(out[6], 0, "absent weak ksym");
    // bpf_prog_active on this CPU counts the tracing programs running there: none but ours.
    assert!(out[7] <= 1, "typed per-CPU ksym read {}", out[7]);
}

#[test]
fn kfuncs_resolve_against_the_running_kernel() {
    use bpf_core::btf::BtfKind;
    use bpf_core::relocation::KfuncValue;
    const TEST: &str = "kfuncs_resolve_against_the_running_kernel";
    if skipped_without_bpf_capability(TEST) {
        return;
    }
    let Some(vmlinux) = vmlinux(TEST) else {
        return;
    };
    let mut object =
        Object::parse(include_bytes!("../../tests/bpf/obj/reloc_externs.bpf.o")).unwrap();
    let pid = std::process::id() as i32;
    object
        .set_global("kfunc_target", &pid.to_le_bytes())
        .unwrap();
    let maps = create_maps(&object).unwrap();
    let mut bindings = map_bindings(&maps);
    // The program reads task->pid: its offset follows the running kernel.
    bindings.core_target = Some(bpf_core::btf::core::CoreTarget::from_btf(vmlinux.clone()));
    for kfunc in [
        "bpf_rcu_read_lock",
        "bpf_rcu_read_unlock",
        "bpf_task_from_pid",
        "bpf_task_release",
    ] {
        let Some(btf_id) = vmlinux.find_by_name_kind(kfunc, BtfKind::Func) else {
            println!("SKIPPED obj_kernel_load::{TEST}: the kernel's BTF has no kfunc {kfunc}");
            return;
        };
        bindings.kfuncs.insert(
            kfunc.into(),
            KfuncValue {
                btf_id,
                fd_array_index: 0,
                btf_obj_fd: 0,
            },
        );
    }
    load_and_run_syscall(&object, "use_kfuncs", &bindings);
    let data = object.map(".data").unwrap();
    let offset = data.variable("kfunc_pid").unwrap().offset as usize;
    assert_eq!(
        value(&maps, ".data", offset, 8),
        i64::from(pid).to_le_bytes(),
        "bpf_task_from_pid found this process and the program read its pid"
    );
}

#[test]
fn core_relocations_follow_the_running_kernel() {
    use bpf_core::btf::core::CoreTarget;
    use bpf_core::btf::{BtfKind, TypeKind};
    const TEST: &str = "core_relocations_follow_the_running_kernel";
    if skipped_without_bpf_capability(TEST) {
        return;
    }
    let Some(vmlinux) = vmlinux(TEST) else {
        return;
    };
    let task = vmlinux
        .find_by_name_kind("task_struct", BtfKind::Struct)
        .unwrap();
    let TypeKind::Struct(members) = vmlinux.type_by_id(task).unwrap().kind else {
        unreachable!()
    };
    let tgid_offset = members
        .members()
        .map(Result::unwrap)
        .find(|m| m.name == "tgid")
        .unwrap()
        .bit_offset
        / 8;

    let object = Object::parse(include_bytes!("../../tests/bpf/obj/reloc_core.bpf.o")).unwrap();
    let maps = create_maps(&object).unwrap();
    let mut bindings = Bindings {
        core_target: Some(CoreTarget::from_btf(vmlinux)),
        ..Bindings::default()
    };
    for (map, fd) in &maps {
        bindings
            .maps
            .insert(map.clone(), MapReference::Fd(fd.fd().as_raw_fd()));
    }
    let program = object.relocate("read_tgid", &bindings).unwrap();
    assert_eq!(
        program.insns[1].imm as u32, tgid_offset,
        "local offset 4 became the kernel's"
    );
    let helper = program
        .functions
        .iter()
        .find(|(n, _)| n == "missing_field_exists")
        .unwrap()
        .1;
    assert_eq!(
        program.insns[helper].imm, 0,
        "field the kernel lacks does not exist"
    );
    assert!(program.core_poisoned.is_empty());

    let btf = bpf_sys::btf::btf_load(&object.btf.as_ref().unwrap().to_bytes(), 1, None).unwrap();
    let (func_info, line_info) = (program.func_info_bytes(), program.line_info_bytes());
    let fd = prog_load(&ProgLoadAttr {
        prog_type: object
            .program("read_tgid")
            .unwrap()
            .section
            .prog_type()
            .unwrap(),
        name: "read_tgid",
        insns: &program.insns,
        license: "GPL",
        prog_btf_fd: Some(std::os::fd::AsFd::as_fd(&btf)),
        func_info: &func_info,
        func_info_rec_size: program.func_info_rec_size,
        line_info: &line_info,
        line_info_rec_size: program.line_info_rec_size,
        ..ProgLoadAttr::default()
    })
    .unwrap_or_else(|e| panic!("verifier rejected read_tgid: {e}"));
    let args = [0u8; 16];
    prog_test_run(
        fd.as_fd_ref(),
        TestRunAttr {
            ctx_in: &args,
            ..TestRunAttr::default()
        },
    )
    .unwrap();
    let bss = value(&maps, ".bss", 0, 16);
    assert_eq!(
        u64::from_le_bytes(bss[..8].try_into().unwrap()),
        u64::from(std::process::id())
    );
    assert_eq!(u64::from_le_bytes(bss[8..].try_into().unwrap()), 0);
}
