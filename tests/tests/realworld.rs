//! Objects written the way libbpf-tools writes them (vmlinux.h, CO-RE reads, global data,
//! subprograms shared by several programs, perf and ring buffers): open, load, attach, fire.

use std::process::Command;

use bpf_programs::maps::{GlobalData, HashMap};
use bpf_programs::programs::{RawTracePoint, TracePoint};
use bpf_programs::{Bpf, BpfLoader};

const EXECSNOOP: &[u8] = integration_tests::bpf_object!("rw_execsnoop.bpf.o");
const RUNQLAT: &[u8] = integration_tests::bpf_object!("rw_runqlat.bpf.o");

fn bss_u64(bpf: &Bpf, name: &str) -> u64 {
    let bss = GlobalData::try_from(bpf.map(".bss").expect("a .bss map")).expect(".bss is mappable");
    bss.get::<u64>(name).expect("variable in .bss")
}

#[test]
fn tracepoint_execsnoop_sees_our_children_exec() {
    let mut bpf = BpfLoader::new()
        .set_global("ignore_failed", &0u8)
        .load(EXECSNOOP)
        .expect("execsnoop opens");
    for name in [
        "tracepoint__syscalls__sys_enter_execve",
        "tracepoint__syscalls__sys_exit_execve",
    ] {
        let program: &mut TracePoint = bpf.program_mut(name).unwrap().try_into().unwrap();
        program
            .load()
            .unwrap_or_else(|e| panic!("{name} loads: {e}"));
        program.attach_default().unwrap();
    }
    for _ in 0..3 {
        let status = Command::new("/bin/true").status().expect("spawn /bin/true");
        assert!(status.success());
    }
    assert!(bss_u64(&bpf, "exec_count") >= 3, "enter handler ran");
    assert!(bss_u64(&bpf, "exit_count") >= 3, "exit handler ran");
    let execs: HashMap<_, i32, [u8; 552]> = HashMap::try_from(bpf.map("execs").unwrap()).unwrap();
    // Entries are deleted at exit, so a finished exec leaves none of ours behind.
    assert!(execs.keys().count() < 10240);
}

#[test]
fn raw_tracepoint_runqlat_shares_subprograms_between_programs() {
    let mut bpf = BpfLoader::new()
        .set_max_entries("stacks", 64)
        .load(RUNQLAT)
        .expect("runqlat opens");
    for name in ["handle_sched_wakeup", "handle_sched_switch"] {
        let program: &mut RawTracePoint = bpf.program_mut(name).unwrap().try_into().unwrap();
        program
            .load()
            .unwrap_or_else(|e| panic!("{name} loads: {e}"));
        program.attach_default().unwrap();
    }
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(bss_u64(&bpf, "switches") > 0, "sched_switch handler ran");
    assert!(bss_u64(&bpf, "wakeups") > 0, "sched_wakeup handler ran");
}

#[test]
fn realworld_every_program_opens_and_loads_or_says_why() {
    for (object, bytes) in [("rw_execsnoop", EXECSNOOP), ("rw_runqlat", RUNQLAT)] {
        let mut loader = BpfLoader::new();
        if object == "rw_runqlat" {
            loader.set_max_entries("stacks", 64);
        }
        let mut bpf = loader
            .load(bytes)
            .unwrap_or_else(|e| panic!("{object} opens: {e}"));
        let names: Vec<String> = bpf.programs().map(|(n, _)| n.to_owned()).collect();
        assert!(!names.is_empty(), "{object} has programs");
        for name in names {
            let program = bpf.program_mut(&name).unwrap();
            if let Err(e) = program.load() {
                panic!(
                    "{object}/{name} ({}) failed to load: {e}",
                    program.type_name()
                );
            }
        }
    }
}

#[test]
fn realworld_stack_map_without_size_names_the_map() {
    // Like libbpf, a map whose size is left to user space cannot be created without one.
    let err = Bpf::load(RUNQLAT).expect_err("stacks has no max_entries");
    assert!(err.to_string().contains("`stacks`"), "{err}");
    assert!(err.to_string().contains("set_max_entries"), "{err}");
}

#[test]
fn attach_all_attaches_like_a_skeleton() {
    let mut bpf = BpfLoader::new()
        .set_max_entries("stacks", 64)
        .load(RUNQLAT)
        .expect("runqlat opens");
    // The raw_tp twins of the tp_btf programs stay out, as a libbpf-tools loader would choose.
    for twin in ["handle_sched_switch", "handle_sched_wakeup"] {
        let program = bpf.program_mut(twin).unwrap();
        assert!(program.autoload());
        program.set_autoload(false);
    }
    let attached = bpf.attach_all().expect("every named target attaches");
    // The perf_event program needs a perf event from the caller: loaded by name only.
    assert_eq!(attached, ["sched_switch", "sched_wakeup"]);
    assert!(bpf.program("handle_sched_switch").unwrap().fd().is_err());
    assert!(bpf.program("sample_stack").unwrap().fd().is_err());
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(bss_u64(&bpf, "switches") > 0, "sched_switch handlers ran");

    let mut bpf = BpfLoader::new()
        .set_global("ignore_failed", &0u8)
        .load(EXECSNOOP)
        .expect("execsnoop opens");
    assert_eq!(bpf.attach_all().unwrap().len(), 2);
    let status = Command::new("/bin/true").status().expect("spawn /bin/true");
    assert!(status.success());
    assert!(bss_u64(&bpf, "exec_count") >= 1, "enter handler ran");
    for (_, program) in bpf.programs_mut() {
        program.unload().unwrap();
    }
    let seen = bss_u64(&bpf, "exec_count");
    Command::new("/bin/true").status().unwrap();
    assert_eq!(bss_u64(&bpf, "exec_count"), seen, "fired after unload");
}
