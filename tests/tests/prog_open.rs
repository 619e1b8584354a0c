//! The open phase (libbpf's open → configure → load): programs and map definitions read and
//! changed before the kernel has any of them, maps created as configured on load, and
//! `load_all` leaving out programs whose autoload is off.

use bpf_core::obj::ProgramSection;
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::generated::{bpf_map_type, bpf_prog_type};

const RUNQLAT: &[u8] = integration_tests::bpf_object!("rw_runqlat.bpf.o");

#[test]
fn open_lists_programs_in_object_order_and_map_definitions() {
    let open = Bpf::open(RUNQLAT).expect("the object parses");
    let programs: Vec<(&str, &str, Option<u32>, bool)> = open
        .programs()
        .map(|p| {
            (
                p.name.as_str(),
                p.section_name.as_str(),
                p.section.prog_type(),
                p.autoload,
            )
        })
        .collect();
    assert_eq!(
        programs,
        [
            (
                "sched_wakeup",
                "tp_btf/sched_wakeup",
                Some(bpf_prog_type::BPF_PROG_TYPE_TRACING),
                true
            ),
            (
                "sched_switch",
                "tp_btf/sched_switch",
                Some(bpf_prog_type::BPF_PROG_TYPE_TRACING),
                true
            ),
            (
                "handle_sched_wakeup",
                "raw_tp/sched_wakeup",
                Some(bpf_prog_type::BPF_PROG_TYPE_RAW_TRACEPOINT),
                true
            ),
            (
                "handle_sched_switch",
                "raw_tp/sched_switch",
                Some(bpf_prog_type::BPF_PROG_TYPE_RAW_TRACEPOINT),
                true
            ),
            (
                "sample_stack",
                "perf_event",
                Some(bpf_prog_type::BPF_PROG_TYPE_PERF_EVENT),
                true
            ),
        ]
    );
    // What a user wants to know before creating anything: which maps are left to size.
    let to_size: Vec<&str> = open
        .maps()
        .filter(|m| m.def.max_entries == 0)
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(to_size, ["stacks"]);
    let stacks = open.map("stacks").unwrap();
    assert_eq!(stacks.def.map_type, bpf_map_type::BPF_MAP_TYPE_STACK_TRACE);
    assert_eq!((stacks.def.key_size, stacks.def.value_size), (4, 127 * 8));
    let start = open.map("start").unwrap();
    assert_eq!(start.def.map_type, bpf_map_type::BPF_MAP_TYPE_HASH);
    assert!(start.def.max_entries > 0);
}

#[test]
fn open_configure_load_creates_maps_as_configured() {
    let mut open = Bpf::open(RUNQLAT).unwrap();
    let to_size: Vec<String> = open
        .maps()
        .filter(|m| m.def.max_entries == 0)
        .map(|m| m.name.clone())
        .collect();
    for name in &to_size {
        open.map_mut(name).unwrap().set_max_entries(64);
    }
    let mut start = open.map_mut("start").unwrap();
    start.set_max_entries(128);
    assert_eq!(
        start.def.max_entries, 128,
        "reads through to the definition"
    );
    let mut stacks = open.map_mut("stacks").unwrap();
    stacks.set_value_size(32 * 8);
    assert_eq!(stacks.def.value_type_id, None);

    let bpf = open.load().expect("the configured maps are created");
    let info = |name: &str| bpf.map(name).unwrap().data().info().unwrap();
    assert_eq!(info("stacks").max_entries(), 64);
    assert_eq!(info("stacks").value_size(), 32 * 8);
    assert_eq!(info("start").max_entries(), 128);

    // The by-name loader settings are the same configuration, applied at open.
    let open = BpfLoader::new()
        .set_max_entries("stacks", 16)
        .open(RUNQLAT)
        .unwrap();
    assert_eq!(open.map("stacks").unwrap().def.max_entries, 16);
    let unknown = BpfLoader::new()
        .set_max_entries("no_such_map", 16)
        .open(RUNQLAT)
        .unwrap_err();
    assert!(
        unknown.to_string().contains("no map `no_such_map`"),
        "{unknown}"
    );
}

#[test]
fn load_all_leaves_out_programs_whose_autoload_is_off() {
    let mut open = BpfLoader::new()
        .set_max_entries("stacks", 64)
        .open(RUNQLAT)
        .unwrap();
    // Off before load (libbpf's bpf_program__set_autoload on the open object) ...
    open.program_mut("handle_sched_switch")
        .unwrap()
        .set_autoload(false);
    let mut bpf = open.load().unwrap();
    assert!(!bpf.program("handle_sched_switch").unwrap().autoload());
    // ... and after it, before load_all.
    bpf.program_mut("handle_sched_wakeup")
        .unwrap()
        .set_autoload(false);

    let loaded = bpf.load_all().expect("the other programs load");
    assert_eq!(loaded, ["sample_stack", "sched_switch", "sched_wakeup"]);
    for name in ["handle_sched_switch", "handle_sched_wakeup"] {
        assert!(
            bpf.program(name).unwrap().fd().is_err(),
            "{name} was loaded"
        );
    }
    for name in &loaded {
        bpf.program(name).unwrap().fd().expect("loaded");
    }
    assert_eq!(
        bpf.load_all().unwrap(),
        Vec::<String>::new(),
        "nothing left"
    );
    let attached = bpf.attach_all().unwrap();
    assert_eq!(attached, ["sched_switch", "sched_wakeup"]);
    assert!(bpf.program("handle_sched_switch").unwrap().fd().is_err());

    // Left out is not forbidden: asked for by name, the program loads.
    bpf.program_mut("handle_sched_wakeup")
        .unwrap()
        .load()
        .unwrap();
}

#[test]
fn open_program_can_be_retargeted_before_load() {
    let mut open = BpfLoader::new()
        .set_max_entries("stacks", 64)
        .open(RUNQLAT)
        .unwrap();
    let mut program = open.program_mut("handle_sched_wakeup").unwrap();
    program.set_section(ProgramSection::parse("raw_tp/sched_wakeup_new"));
    assert_eq!(
        program.section,
        ProgramSection::parse("raw_tp/sched_wakeup_new")
    );
    let mut bpf = open.load().unwrap();
    let program = bpf.program_mut("handle_sched_wakeup").unwrap();
    assert_eq!(
        program.section(),
        Some(&ProgramSection::parse("raw_tp/sched_wakeup_new"))
    );
    assert!(program.attach_from_section().unwrap());
}
