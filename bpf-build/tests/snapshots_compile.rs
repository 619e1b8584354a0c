//! Every skeleton snapshot compiled against bpf-programs: the generated programs, maps and
//! globals name real types, and the generated C types pass their size and offset assertions.

include!("snapshots/cgroup_programs.skel.rs");
include!("snapshots/map_arena.skel.rs");
include!("snapshots/map_arena_fixed.skel.rs");
include!("snapshots/map_in_map.skel.rs");
include!("snapshots/map_in_map_locked.skel.rs");
include!("snapshots/map_in_map_no_inner.skel.rs");
include!("snapshots/map_programs.skel.rs");
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
include!("snapshots/prog_tracepoint.skel.rs");
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
