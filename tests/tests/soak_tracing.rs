//! Soak tests of the tracing attachment kinds: perf-event links (tracepoint, perf event,
//! uprobe, kprobe), raw tracepoint, tracing links (tp_btf, fentry, lsm), uprobe.multi, iter,
//! and struct_ops registrations. Each attaches and detaches many times, then loads, attaches
//! and drops the whole object many times, and checks that no fd and none of the kernel
//! objects it created is left (see `soak_support`).

#[path = "soak_support/mod.rs"]
mod soak_support;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use bpf_programs::Bpf;
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{
    BtfTracePoint, FEntry, FEntryError, Iter, KProbe, Link, Lsm, PerfEvent, PerfEventScope,
    PerfTypeId, ProgramError, RawTracePoint, SamplePolicy, TracePoint, UProbe, UProbeLocation,
    UProbeMulti, btf_tracepoint, fentry, iter, kprobe, lsm, perf_event, raw_tracepoint, tracepoint,
    uprobe,
};
use bpf_programs::struct_ops::StructOpsLink;
use bpf_sys::sockopt::set_bytes_option;
use integration_tests::{counter, getpid_n, open_for_this_thread, skip, skipped_unsupported};
use soak_support::{ATTACH_CYCLES, Alive, Census, Kind, OBJECT_CYCLES, Soak, cycles, serial, soak};

attachable!(
    TracePoint => tracepoint::TracePointLink,
    PerfEvent => perf_event::PerfEventLink,
    UProbe => uprobe::UProbeLink,
    UProbeMulti => uprobe::UProbeMultiLink,
    KProbe => kprobe::KProbeLink,
    RawTracePoint => raw_tracepoint::RawTracePointLink,
    BtfTracePoint => btf_tracepoint::BtfTracePointLink,
    Lsm => lsm::LsmLink,
    Iter => iter::IterLink,
);

/// Kernels name the getpid entry differently in BTF (aliases at one address are deduplicated).
const GETPID: &[&str] = &["__x64_sys_getpid", "__do_sys_getpid"];

/// Loads an fentry program for the first getpid function the kernel's BTF has.
fn load_getpid_fentry(program: &mut FEntry) -> Result<(), ProgramError> {
    for function in GETPID {
        match program.load_target(function) {
            Err(ProgramError::FEntry(FEntryError::FunctionNotFound { .. })) => {}
            other => return other,
        }
    }
    program.load_target(GETPID[0])
}

impl soak_support::Attachable for FEntry {
    type Id = <fentry::FEntryLink as Link>::Id;
    type Link = fentry::FEntryLink;
    fn load_it(&mut self) -> Result<(), ProgramError> {
        load_getpid_fentry(self)
    }
    fn detach_it(&mut self, id: Self::Id) -> Result<(), ProgramError> {
        self.detach(id)
    }
    fn take_it(&mut self, id: Self::Id) -> Result<fentry::FEntryLink, ProgramError> {
        self.take_link(id)
    }
    fn unload_it(&mut self) -> Result<(), ProgramError> {
        self.unload()
    }
}

const TRACEPOINT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
const PERF: &[u8] = integration_tests::bpf_object!("prog_perf_event.bpf.o");
const UPROBE: &[u8] = integration_tests::bpf_object!("prog_uprobe.bpf.o");
const KPROBE: &[u8] = integration_tests::bpf_object!("prog_kprobe.bpf.o");
const RAW_TP: &[u8] = integration_tests::bpf_object!("prog_raw_tracepoint.bpf.o");
const TP_BTF: &[u8] = integration_tests::bpf_object!("prog_btf_tracepoint.bpf.o");
const FENTRY: &[u8] = integration_tests::bpf_object!("prog_fentry.bpf.o");
const LSM: &[u8] = integration_tests::bpf_object!("prog_lsm.bpf.o");
const ITER: &[u8] = integration_tests::bpf_object!("prog_iter.bpf.o");
const STRUCT_OPS: &[u8] = integration_tests::bpf_object!("struct_ops_cc.bpf.o");

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn soak_probe_target(x: u64) -> u64 {
    std::hint::black_box(x + 1)
}

/// Makes a getpid() call and says whether counter 0 of `hits` grew.
fn fires_on_getpid(bpf: &Bpf) -> bool {
    let before = counter(bpf, "hits");
    getpid_n(1);
    counter(bpf, "hits") > before
}

/// Whether `load` of the program `name` in `object` is refused outright here (after printing
/// the SKIPPED line).
fn refused_here(test: &str, object: &[u8], name: &str) -> bool {
    let mut bpf = open_for_this_thread(object);
    let loaded = match bpf.program_mut(name).unwrap().try_into() {
        Ok(fentry) => load_getpid_fentry(fentry),
        Err(_) => bpf.program_mut(name).unwrap().load(),
    };
    skipped_unsupported(test, &loaded)
}

/// Kernel links a perf event attachment makes: a perf link where the kernel has them
/// (`BPF_PERF_EVENT`, Linux 5.15), else none (the perf event ioctl).
fn perf_links() -> usize {
    usize::from(integration_tests::kernel_enum_has(
        "bpf_attach_type",
        "BPF_PERF_EVENT",
    ))
}

#[test]
fn soak_tracepoint() {
    let _serial = serial();
    soak(Kind::<TracePoint> {
        label: "tracepoint (perf link)",
        open: &|| open_for_this_thread(TRACEPOINT),
        program: "count_getpid",
        attach: &|p| p.attach_default(),
        fire: &fires_on_getpid,
        kernel_links: perf_links(),
        remove_elsewhere: None,
    });
}

#[test]
fn soak_perf_event() {
    let _serial = serial();
    soak(Kind::<PerfEvent> {
        label: "perf_event (perf link)",
        open: &|| open_for_this_thread(PERF),
        program: "count_samples",
        // The task clock of this thread, a sample every 100 µs of its CPU time.
        attach: &|p| {
            p.attach(
                PerfTypeId::Software,
                bpf_sys::generated::perf_sw_ids::PERF_COUNT_SW_TASK_CLOCK as u64,
                PerfEventScope::CallingProcessAnyCpu,
                SamplePolicy::Period(100_000),
                false,
            )
        },
        fire: &|bpf| {
            let before = counter(bpf, "hits");
            let deadline = Instant::now() + Duration::from_secs(5);
            while counter(bpf, "hits") == before && Instant::now() < deadline {
                std::hint::black_box((0..10_000u64).sum::<u64>());
            }
            counter(bpf, "hits") > before
        },
        kernel_links: perf_links(),
        remove_elsewhere: None,
    });
}

#[test]
fn soak_uprobe() {
    let _serial = serial();
    let exe = std::env::current_exe().unwrap();
    soak(Kind::<UProbe> {
        label: "uprobe (perf link)",
        open: &|| open_for_this_thread(UPROBE),
        program: "count_entry",
        attach: &|p| p.attach("soak_probe_target", &exe, None, None),
        fire: &|bpf| {
            let before = counter(bpf, "hits");
            std::hint::black_box(soak_probe_target(std::hint::black_box(1)));
            counter(bpf, "hits") > before
        },
        kernel_links: perf_links(),
        remove_elsewhere: None,
    });
}

#[test]
fn soak_uprobe_multi() {
    let _serial = serial();
    let test = "soak_tracing::soak_uprobe_multi";
    let exe = std::env::current_exe().unwrap();
    {
        let mut bpf = open_for_this_thread(UPROBE);
        let program: &mut UProbeMulti = bpf.program_mut("count_multi").unwrap().try_into().unwrap();
        program.load().unwrap();
        let attached = program.attach(
            &[UProbeLocation::Symbol("soak_probe_target")],
            &exe,
            None,
            &[],
        );
        if skipped_unsupported(test, &attached) {
            return;
        }
    }
    soak(Kind::<UProbeMulti> {
        label: "uprobe.multi link",
        open: &|| open_for_this_thread(UPROBE),
        program: "count_multi",
        attach: &|p| {
            p.attach(
                &[UProbeLocation::Symbol("soak_probe_target")],
                &exe,
                None,
                &[],
            )
        },
        fire: &|bpf| {
            let before = integration_tests::value_at(bpf, "hits", 2);
            std::hint::black_box(soak_probe_target(std::hint::black_box(1)));
            integration_tests::value_at(bpf, "hits", 2) > before
        },
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_kprobe() {
    let _serial = serial();
    let test = "soak_tracing::soak_kprobe";
    if !std::path::Path::new("/sys/bus/event_source/devices/kprobe/type").exists() {
        skip(
            test,
            "the kernel has no kprobe PMU (CONFIG_KPROBE_EVENTS off)",
        );
        return;
    }
    soak(Kind::<KProbe> {
        label: "kprobe (perf link)",
        open: &|| open_for_this_thread(KPROBE),
        program: "on_entry",
        attach: &|p| p.attach_default(),
        fire: &fires_on_getpid,
        kernel_links: perf_links(),
        remove_elsewhere: None,
    });
}

#[test]
fn soak_raw_tracepoint() {
    let _serial = serial();
    soak(Kind::<RawTracePoint> {
        label: "raw_tracepoint link",
        open: &|| open_for_this_thread(RAW_TP),
        program: "count_sys_enter",
        attach: &|p| p.attach_default(),
        fire: &fires_on_getpid,
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_tp_btf() {
    let _serial = serial();
    soak(Kind::<BtfTracePoint> {
        label: "tp_btf (tracing link)",
        open: &|| open_for_this_thread(TP_BTF),
        program: "on_sys_enter",
        attach: &|p| p.attach(),
        fire: &fires_on_getpid,
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_fentry() {
    let _serial = serial();
    let test = "soak_tracing::soak_fentry";
    if refused_here(test, FENTRY, "fentry_getpid") {
        return;
    }
    if let Some(reason) = integration_tests::tracing_reattach_refusal() {
        integration_tests::skip(test, reason);
        return;
    }
    soak(Kind::<FEntry> {
        label: "fentry (tracing link)",
        open: &|| open_for_this_thread(FENTRY),
        program: "fentry_getpid",
        attach: &|p| p.attach(0),
        fire: &fires_on_getpid,
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_lsm() {
    let _serial = serial();
    let test = "soak_tracing::soak_lsm";
    if refused_here(test, LSM, "count_opens") {
        return;
    }
    if let Some(reason) = integration_tests::tracing_reattach_refusal() {
        integration_tests::skip(test, reason);
        return;
    }
    let active = std::fs::read_to_string("/sys/kernel/security/lsm")
        .map(|list| list.split(',').any(|lsm| lsm.trim() == "bpf"))
        .unwrap_or(false);
    if !active {
        skip(test, "bpf is not in /sys/kernel/security/lsm");
        return;
    }
    soak(Kind::<Lsm> {
        label: "lsm (tracing link)",
        open: &|| open_for_this_thread(LSM),
        program: "count_opens",
        attach: &|p| p.attach(),
        fire: &|bpf| {
            let before = counter(bpf, "hits");
            drop(std::fs::File::open("/proc/self/status").unwrap());
            counter(bpf, "hits") > before
        },
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

#[test]
fn soak_iter() {
    let _serial = serial();
    // The iterator runs when an instance is read; the link cannot be reached once owned by
    // the program, so reading goes through a second link made for it.
    soak(Kind::<Iter> {
        label: "iter link",
        open: &|| open_for_this_thread(ITER),
        program: "dump_tasks",
        attach: &|p| {
            let id = p.attach()?;
            let mut text = String::new();
            p.open(id)?.read_to_string(&mut text).unwrap();
            assert!(!text.is_empty(), "the task iterator printed nothing");
            Ok(id)
        },
        fire: &|bpf| counter(bpf, "hits") > 0,
        kernel_links: 1,
        remove_elsewhere: None,
    });
}

/// A congestion-control name no other test process uses (they are global to the kernel).
fn unique_cc_name(map: &str) -> String {
    let tag = if map.ends_with("link") { 'l' } else { 'm' };
    format!("soak{tag}{}", std::process::id())
}

/// Opens the struct_ops object with map `map` renamed to `cc` (15 bytes at most).
fn open_struct_ops(map: &str, cc: &str) -> Bpf {
    let mut bpf = Bpf::load(STRUCT_OPS).unwrap();
    bpf.struct_ops_mut(map)
        .unwrap()
        .set_member_str("name", cc)
        .unwrap();
    bpf
}

/// Sets congestion control `cc` on a loopback TCP connection and says whether the
/// registered struct's `init` ran.
fn struct_ops_fires(bpf: &Bpf, cc: &str) -> bool {
    let calls = || {
        GlobalData::try_from(bpf.map(".bss").unwrap())
            .unwrap()
            .get::<u64>("init_calls")
            .unwrap()
    };
    let before = calls();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let _peer = listener.accept().unwrap();
    set_bytes_option(
        stream.as_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_CONGESTION,
        cc.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("TCP_CONGESTION {cc}: {e}"));
    calls() > before
}

/// Registers `map` of `bpf`, records what it made, proves `init` runs for a connection using
/// it; returns the registration.
fn register_live(
    bpf: &mut Bpf,
    map: &str,
    cc: &str,
    census: &mut Census,
    cycle: usize,
) -> StructOpsLink {
    let link = bpf
        .register_struct_ops(map)
        .unwrap_or_else(|e| panic!("registering `{map}` in cycle {cycle}: {e}"));
    census.record_bpf(bpf);
    if let Some(fd_link) = link.link() {
        census.links.insert(fd_link.info().unwrap().id());
    }
    assert!(
        struct_ops_fires(bpf, cc),
        "{map}: init did not run in cycle {cycle}"
    );
    link
}

#[test]
fn soak_struct_ops() {
    let _serial = serial();
    let test = "soak_tracing::soak_struct_ops";
    let map = "bpf_test_cc";
    let cc = unique_cc_name(map);
    let mut probe = open_struct_ops(map, &cc);
    match probe.register_struct_ops(map) {
        Err(e) if e.errno() == Some(libc::EPERM) => {
            skip(test, format!("the kernel refuses struct_ops: {e}"));
            return;
        }
        registered => drop(registered.unwrap()),
    }
    drop(probe);

    // A `.struct_ops` map registers once (by its map update): whole objects only.
    soak_struct_ops_objects(map, &cc);

    // A `.struct_ops.link` map can be linked again once its link is gone (Linux 6.4+).
    let map = "bpf_test_cc_link";
    let cc = unique_cc_name(map);
    let mut bpf = open_struct_ops(map, &cc);
    if !bpf.struct_ops(map).unwrap().uses_link() {
        println!("no struct_ops links on this kernel: {map} registers by map update");
        soak_struct_ops_objects(map, &cc);
        return;
    }
    let label = format!("struct_ops {map} link register/unregister");
    let mut census = Census::default();
    let n = cycles(ATTACH_CYCLES);
    let mut run = None;
    for cycle in 0..=n {
        if cycle == 1 {
            run = Some(Soak::start(&label, n));
        }
        let link = register_live(&mut bpf, map, &cc, &mut census, cycle);
        if cycle % 2 == 0 {
            link.unregister().unwrap();
        } else {
            drop(link);
        }
    }
    let mut kept = census.alive();
    kept.links = 0;
    run.unwrap().finish(&census, kept);
    drop(bpf);
    census.wait_until(&label, Alive::NONE);
    soak_struct_ops_objects(map, &cc);
}

/// Whole-object cycles: open, register, prove it runs, drop (object or registration first).
fn soak_struct_ops_objects(map: &str, cc: &str) {
    let label = format!("struct_ops {map} object load/register/drop");
    let mut census = Census::default();
    let n = cycles(OBJECT_CYCLES);
    let mut run = None;
    for cycle in 0..=n {
        if cycle == 1 {
            run = Some(Soak::start(&label, n));
        }
        let mut bpf = open_struct_ops(map, cc);
        let link = register_live(&mut bpf, map, cc, &mut census, cycle);
        if cycle % 2 == 0 {
            drop(bpf);
            drop(link);
        } else {
            drop(link);
            drop(bpf);
        }
    }
    run.unwrap().finish(&census, Alive::NONE);
}
