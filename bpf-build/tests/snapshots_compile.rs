//! Every skeleton snapshot compiled against bpf-programs: the generated programs, maps and
//! globals name real types, and the generated C types pass their size and offset assertions.

include!("snapshots/btf_types.skel.rs");
include!("snapshots/btf_kinds.skel.rs");
include!("snapshots/cgroup_programs.skel.rs");
include!("snapshots/inspect_programs.skel.rs");
include!("snapshots/log_filtered.skel.rs");
include!("snapshots/log_programs.skel.rs");
include!("snapshots/map_arena.skel.rs");
include!("snapshots/map_arena_fixed.skel.rs");
include!("snapshots/map_bloom.skel.rs");
include!("snapshots/map_in_map.skel.rs");
include!("snapshots/map_in_map_locked.skel.rs");
include!("snapshots/map_in_map_no_inner.skel.rs");
include!("snapshots/map_programs.skel.rs");
include!("snapshots/map_readers.skel.rs");
include!("snapshots/map_sized_at_run_time.skel.rs");
include!("snapshots/module_btf.skel.rs");
include!("snapshots/net_lirc.skel.rs");
include!("snapshots/net_netkit.skel.rs");
include!("snapshots/net_packet.skel.rs");
include!("snapshots/net_sockmap.skel.rs");
include!("snapshots/parse_globals.skel.rs");
include!("snapshots/parse_iproute2.skel.rs");
include!("snapshots/parse_maps.skel.rs");
include!("snapshots/parse_programs.skel.rs");
include!("snapshots/parse_struct_ops.skel.rs");
include!("snapshots/prog_btf_tracepoint.skel.rs");
include!("snapshots/prog_extension.skel.rs");
include!("snapshots/prog_fentry.skel.rs");
include!("snapshots/prog_iter.skel.rs");
include!("snapshots/prog_kprobe.skel.rs");
include!("snapshots/prog_loader.skel.rs");
include!("snapshots/prog_lsm.skel.rs");
include!("snapshots/prog_perf_event.skel.rs");
include!("snapshots/prog_raw_tracepoint.skel.rs");
include!("snapshots/prog_syscall.skel.rs");
include!("snapshots/prog_test_run.skel.rs");
include!("snapshots/prog_tracepoint.skel.rs");
include!("snapshots/prog_unsupported.skel.rs");
include!("snapshots/prog_uprobe.skel.rs");
include!("snapshots/prog_usdt.skel.rs");
include!("snapshots/reloc_calls.skel.rs");
include!("snapshots/reloc_core.skel.rs");
include!("snapshots/reloc_externs.skel.rs");
include!("snapshots/rw_execsnoop.skel.rs");
include!("snapshots/rw_runqlat.skel.rs");
include!("snapshots/struct_ops_cc.skel.rs");
include!("snapshots/struct_ops_dummy.skel.rs");
include!("snapshots/struct_ops_missing.skel.rs");
include!("snapshots/usdt_spec_v2.skel.rs");

/// Whether this process may load BPF programs (CAP_BPF or CAP_SYS_ADMIN in its effective set).
fn can_load_bpf() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    caps & (1 << 39 | 1 << 21) != 0
}

/// Skeletons opened, loaded and split into typed fields on the running kernel: the program and
/// map types the generator chose are the ones the loader makes from the same sections and maps
/// (a mismatch is a typed error at `load()`).
#[test]
fn skeletons_load_into_their_typed_fields() {
    if !can_load_bpf() {
        println!(
            "SKIPPED snapshots_compile::skeletons_load_into_their_typed_fields: \
             no CAP_BPF or CAP_SYS_ADMIN"
        );
        return;
    }
    let mut execsnoop = rw_execsnoop::open().unwrap().load().unwrap();
    let attached = execsnoop.attach().unwrap();
    assert!(!attached.is_empty(), "rw_execsnoop attached nothing");
    // Its stack map is sized by user space, as with libbpf.
    let mut runqlat = rw_runqlat::open().unwrap();
    runqlat.maps.stacks.max_entries = 1024;
    runqlat.load().unwrap();
    let globals = parse_globals::open().unwrap().load().unwrap();
    let _ = globals;
    let mut maps = map_programs::open().unwrap();
    maps.maps.counts.max_entries = 7;
    let maps = maps.load().unwrap();
    assert_eq!(maps.maps.counts.map_data().max_entries(), 7);
}

/// Every snapshot's skeleton opened and loaded: those whose programs this kernel takes load into
/// their typed fields; the others fail for their own reason (the test objects include programs
/// made to be refused, and trampolines are refused here), never because the generator chose
/// another program or map type, or other sizes, than the loader makes.
#[test]
fn every_skeleton_loads_or_fails_for_its_own_reason() {
    if !can_load_bpf() {
        println!(
            "SKIPPED snapshots_compile::every_skeleton_loads_or_fails_for_its_own_reason: \
             no CAP_BPF or CAP_SYS_ADMIN"
        );
        return;
    }
    type Outcome = Result<(), bpf_programs::skeleton::SkeletonError>;
    let outcomes: Vec<(&str, Outcome)> = vec![
        (
            "cgroup_programs",
            cgroup_programs::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "inspect_programs",
            inspect_programs::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "log_filtered",
            log_filtered::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "log_programs",
            log_programs::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_arena",
            map_arena::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_arena_fixed",
            map_arena_fixed::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_bloom",
            map_bloom::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_in_map",
            map_in_map::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_in_map_locked",
            map_in_map_locked::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_in_map_no_inner",
            map_in_map_no_inner::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_programs",
            map_programs::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_readers",
            map_readers::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "map_sized_at_run_time",
            map_sized_at_run_time::open()
                .and_then(|o| o.load())
                .map(drop),
        ),
        (
            "module_btf",
            module_btf::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "net_lirc",
            net_lirc::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "net_netkit",
            net_netkit::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "net_packet",
            net_packet::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "net_sockmap",
            net_sockmap::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "parse_globals",
            parse_globals::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "parse_iproute2",
            parse_iproute2::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "parse_maps",
            parse_maps::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "parse_programs",
            parse_programs::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "parse_struct_ops",
            parse_struct_ops::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_btf_tracepoint",
            prog_btf_tracepoint::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_extension",
            prog_extension::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_fentry",
            prog_fentry::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_iter",
            prog_iter::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_kprobe",
            prog_kprobe::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_loader",
            prog_loader::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_lsm",
            prog_lsm::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_perf_event",
            prog_perf_event::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_raw_tracepoint",
            prog_raw_tracepoint::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_syscall",
            prog_syscall::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_test_run",
            prog_test_run::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_tracepoint",
            prog_tracepoint::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_uprobe",
            prog_uprobe::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "prog_usdt",
            prog_usdt::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "reloc_calls",
            reloc_calls::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "reloc_core",
            reloc_core::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "reloc_externs",
            reloc_externs::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "rw_execsnoop",
            rw_execsnoop::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "rw_runqlat",
            rw_runqlat::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "struct_ops_cc",
            struct_ops_cc::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "struct_ops_dummy",
            struct_ops_dummy::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "struct_ops_missing",
            struct_ops_missing::open().and_then(|o| o.load()).map(drop),
        ),
        (
            "usdt_spec_v2",
            usdt_spec_v2::open().and_then(|o| o.load()).map(drop),
        ),
    ];
    // Loaded on the kernel this was written on (6.18) and, as they need nothing recent, on any
    // kernel with BTF where this test runs.
    let must_load = [
        "cgroup_programs",
        "inspect_programs",
        "log_filtered",
        "log_programs",
        "map_bloom",
        "map_readers",
        "map_in_map",
        "map_in_map_locked",
        "map_programs",
        "net_netkit",
        "net_packet",
        "net_sockmap",
        "parse_globals",
        "parse_iproute2",
        "parse_struct_ops",
        "prog_kprobe",
        "prog_perf_event",
        "prog_syscall",
        "prog_tracepoint",
        "prog_uprobe",
        "prog_usdt",
        "reloc_calls",
        "reloc_core",
        "rw_execsnoop",
        "struct_ops_cc",
        "struct_ops_dummy",
        "usdt_spec_v2",
    ];
    for (name, outcome) in &outcomes {
        match outcome {
            Ok(()) => {}
            Err(e) => {
                let text = format!("{e:?}");
                for mismatch in ["UnexpectedProgramType", "WrongType", "KeySize", "ValueSize"] {
                    assert!(
                        !text.contains(mismatch),
                        "{name}: the skeleton's types do not match the object: {text}"
                    );
                }
                assert!(!must_load.contains(name), "{name} did not load: {text}");
            }
        }
    }
}

/// `OpenSkel::progs.<program>.autoload` leaves programs out of `load()` and `attach()`, and turns
/// `SEC("?...")` ones on: an object carrying a program this kernel refuses still loads.
#[test]
fn autoload_leaves_programs_out_and_turns_optional_ones_on() {
    if !can_load_bpf() {
        println!(
            "SKIPPED snapshots_compile::autoload_leaves_programs_out_and_turns_optional_ones_on: \
             no CAP_BPF or CAP_SYS_ADMIN"
        );
        return;
    }
    let mut open = parse_programs::open().unwrap();
    assert!(
        !open.progs.optional_prog.autoload,
        "SEC(\"?...\") starts off"
    );
    // Left out: what the object carries for other kernels or to be refused.
    for program in [
        &mut open.progs.fentry_unlink,
        &mut open.progs.unknown_prog,
        &mut open.progs.uretprobe_sleepable,
        &mut open.progs.kprobe_open,
    ] {
        program.autoload = false;
    }
    open.progs.optional_prog.autoload = true;
    let skel = open.load().unwrap();
    assert!(
        skel.progs.optional_prog.fd().is_ok(),
        "the optional program was loaded"
    );
    assert!(skel.progs.tp_getpid.fd().is_ok());
    assert!(
        skel.progs.fentry_unlink.fd().is_err(),
        "a program left out was loaded"
    );
}
