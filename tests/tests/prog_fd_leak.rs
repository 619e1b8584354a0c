//! Every fd the library opens is closed when its owner is dropped (own binary: counts the
//! process's fds, which parallel tests would disturb).

use bpf_programs::BpfLoader;
use std::io::Read;

use bpf_programs::programs::{
    Iter, PerfEvent, PerfEventScope, PerfTypeId, RawTracePoint, SamplePolicy, Syscall, TracePoint,
    UProbe,
};
use integration_tests::{getpid_n, gettid, open_fd_count};

const RAW_TP: &[u8] = integration_tests::bpf_object!("prog_raw_tracepoint.bpf.o");
const TP: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
const UPROBE: &[u8] = integration_tests::bpf_object!("prog_uprobe.bpf.o");
const PERF: &[u8] = integration_tests::bpf_object!("prog_perf_event.bpf.o");
const ITER: &[u8] = integration_tests::bpf_object!("prog_iter.bpf.o");
const MODULE_KFUNCS: &[u8] = integration_tests::bpf_object!("module_btf.bpf.o");
const ARENA: &[u8] = integration_tests::bpf_object!("map_arena.bpf.o");

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fd_leak_probe_target(x: u64) -> u64 {
    std::hint::black_box(x + 1)
}

fn exercise() {
    let mut raw = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(RAW_TP)
        .unwrap();
    let program: &mut RawTracePoint = raw
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let id = program.attach("sys_enter").unwrap();
    let taken = program.take_link(id).unwrap();
    // Linux 6.1 refuses a second attachment of one program to the same raw tracepoint.
    program.attach("sys_exit").unwrap();
    let _ = raw.program_mut("unchecked_lookup").unwrap().load();
    let _ = raw.program_mut("mystery").unwrap().load();
    let map = raw.take_map("hits");

    let mut tp = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(TP)
        .unwrap();
    let program: &mut TracePoint = tp.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach_default().unwrap();
    getpid_n(5);

    let mut uprobe = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(UPROBE)
        .unwrap();
    let program: &mut UProbe = uprobe
        .program_mut("count_entry")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let exe = std::env::current_exe().unwrap();
    // A cookie where the kernel takes one (perf event bpf_link, Linux 5.15).
    let cookie = integration_tests::kernel_has_bpf_cookies().then_some(1);
    program
        .attach("fd_leak_probe_target", &exe, None, cookie)
        .unwrap();
    std::hint::black_box(fd_leak_probe_target(1));

    let mut perf = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(PERF)
        .unwrap();
    let program: &mut PerfEvent = perf
        .program_mut("count_samples")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    program
        .attach(
            PerfTypeId::Software,
            0,
            PerfEventScope::CallingProcessAnyCpu,
            SamplePolicy::Frequency(100),
            false,
        )
        .unwrap();

    let mut iter = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(ITER)
        .unwrap();
    let program: &mut Iter = iter.program_mut("dump_tasks").unwrap().try_into().unwrap();
    program.load().unwrap();
    let link = program.attach().unwrap();
    let mut text = String::new();
    program
        .open(link)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(!text.is_empty());

    // Kfuncs of a module keep the module's BTF fd open for the object's loads.
    let mut kfuncs = bpf_programs::Bpf::load(MODULE_KFUNCS).unwrap();
    let _ = kfuncs.program_mut("lookup_conntrack").unwrap().load();
    // Arenas keep a mapping beside their fd (kernels without arenas refuse the object).
    let arena = bpf_programs::Bpf::load(ARENA).ok().map(|mut arena| {
        let program: &mut Syscall = arena
            .program_mut("arena_alloc")
            .unwrap()
            .try_into()
            .unwrap();
        program.load().unwrap();
        program.run(&[]).unwrap();
        arena
    });

    drop(arena);
    drop(kfuncs);
    drop(iter);
    drop(perf);
    drop(uprobe);
    drop(tp);
    drop(raw);
    drop(taken);
    drop(map);
}

#[test]
fn dropping_everything_closes_every_fd() {
    // The first run fills process-wide caches (feature probes, kernel BTF), which hold no fds.
    exercise();
    let before = open_fd_count();
    exercise();
    exercise();
    assert_eq!(open_fd_count(), before, "fds leaked");
}
