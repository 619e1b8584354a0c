//! Objects written the way libbpf-tools writes them (vmlinux.h, CO-RE reads, global data,
//! subprograms shared by several programs, perf and ring buffers): open, load, attach, fire.

use std::process::Command;

use bpf_programs::maps::{GlobalData, HashMap, RingBuf};
use bpf_programs::programs::{RawTracePoint, TracePoint};
use bpf_programs::{Bpf, BpfLoader};

const EXECSNOOP: &[u8] = integration_tests::bpf_object!("rw_execsnoop.bpf.o");
const RUNQLAT: &[u8] = integration_tests::bpf_object!("rw_runqlat.bpf.o");

fn bss_u64(bpf: &Bpf, name: &str) -> u64 {
    let bss = GlobalData::try_from(bpf.map(".bss").expect("a .bss map")).expect(".bss is mappable");
    bss.get::<u64>(name).expect("variable in .bss")
}

/// `struct event` of rw_execsnoop.bpf.c as the ring buffer carries it.
struct ExecEvent {
    pid: i32,
    ppid: i32,
    retval: i32,
    args_count: i32,
    comm: String,
    first_arg: String,
}

impl ExecEvent {
    fn parse(bytes: &[u8]) -> ExecEvent {
        assert_eq!(bytes.len(), 552, "sizeof(struct event)");
        let i32_at = |at: usize| i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
        let c_string = |field: &[u8]| {
            let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
            String::from_utf8_lossy(&field[..end]).into_owned()
        };
        ExecEvent {
            pid: i32_at(0),
            ppid: i32_at(4),
            retval: i32_at(12),
            args_count: i32_at(16),
            comm: c_string(&bytes[24..40]),
            first_arg: c_string(&bytes[40..104]),
        }
    }
}

#[test]
fn tracepoint_execsnoop_sees_our_children_exec() {
    let mut bpf = BpfLoader::new()
        .set_global("ignore_failed", &0u8)
        .load(EXECSNOOP)
        .expect("execsnoop opens");
    let mut ring = RingBuf::try_from(bpf.take_map("rb").unwrap()).unwrap();
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
    let mut children = Vec::new();
    for _ in 0..3 {
        let mut child = Command::new("/bin/true").spawn().expect("spawn /bin/true");
        children.push(child.id() as i32);
        assert!(child.wait().unwrap().success());
    }
    // Other processes on the machine exec too: only our three children count.
    let mut ours = Vec::new();
    while let Some(item) = ring.next() {
        let event = ExecEvent::parse(&item);
        if event.ppid == std::process::id() as i32 && children.contains(&event.pid) {
            ours.push(event);
        }
    }
    let pids: Vec<i32> = ours.iter().map(|e| e.pid).collect();
    assert_eq!(pids, children, "one exit event per child, in order");
    for event in &ours {
        assert_eq!(event.retval, 0, "execve succeeded");
        assert_eq!(event.comm, "true", "comm after the exec");
        assert_eq!(event.args_count, 1);
        assert_eq!(
            event.first_arg, "/bin/true",
            "argv[0] read from user memory"
        );
    }
    assert!(bss_u64(&bpf, "exec_count") >= 3, "enter handler ran");
    assert!(bss_u64(&bpf, "exit_count") >= 3, "exit handler ran");
    // The exit handler deletes each entry the enter handler made.
    let execs: HashMap<_, i32, [u8; 552]> = HashMap::try_from(bpf.map("execs").unwrap()).unwrap();
    for pid in &children {
        assert!(execs.get(pid, 0).unwrap().is_none(), "entry of {pid} left");
    }
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
