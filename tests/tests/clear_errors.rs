//! Errors that say what a user needs, each keeping the kernel's errno reachable through
//! `source()`: a pin outside bpffs, a write to frozen `.rodata`, a map size the kernel refuses,
//! `BPF_EXIST`/`BPF_NOEXIST` updates, an unknown link id.

use std::error::Error;

use bpf_programs::maps::{GlobalData, HashMap, MapError};
use bpf_programs::programs::{FdLink, ProgramError, RawTracePoint};
use bpf_programs::{Bpf, BpfError, BpfLoader};
use integration_tests::open_for_this_thread;

const RAW_TP: &[u8] = integration_tests::bpf_object!("prog_raw_tracepoint.bpf.o");
const NET: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");

/// A path in a fresh directory on the filesystem of `std::env::temp_dir()` (not bpffs).
fn outside_bpffs(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bpf-pin-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("pin")
}

/// The error's own text does not repeat its source's, and names `who` once.
fn assert_says_once(err: &dyn Error, who: &str) {
    let text = err.to_string();
    if let Some(source) = err.source() {
        assert!(
            !text.contains(&source.to_string()),
            "Display repeats source: {text}"
        );
    }
    assert_eq!(text.matches(who).count(), 1, "{who} once in: {text}");
}

fn raw_tp() -> Bpf {
    open_for_this_thread(RAW_TP)
}

#[test]
fn pinning_outside_bpffs_says_where_pins_can_live() {
    let mut bpf = raw_tp();
    let path = outside_bpffs("map");
    let err = bpf.map_mut("hits").unwrap().pin(&path).unwrap_err();
    assert!(matches!(err, MapError::PinOutsideBpffs { .. }), "{err:?}");
    assert!(err.to_string().contains("not on a BPF filesystem"), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_says_once(&err, "`hits`");
    assert!(err.errno().is_some(), "the kernel's errno stays reachable");
    assert!(err.source().is_some());

    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let err = program.pin(outside_bpffs("program")).unwrap_err();
    assert!(
        matches!(err, ProgramError::PinOutsideBpffs { .. }),
        "{err:?}"
    );
    assert_says_once(&err, "`count_sys_enter`");
    assert!(err.errno().is_some());

    let id = program.attach("sys_enter").unwrap();
    let link: FdLink = program.take_link(id).unwrap().into_inner();
    let err = link.pin(outside_bpffs("link")).unwrap_err();
    assert!(
        matches!(err, ProgramError::PinOutsideBpffs { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("not on a BPF filesystem"), "{err}");

    // Pinning at load, through the loader's pin path, reports the same cause.
    let err = BpfLoader::new()
        .map_pin_path(outside_bpffs("loader").parent().unwrap())
        .load(integration_tests::bpf_object!("prog_loader.bpf.o"))
        .map(drop)
        .unwrap_err();
    let mut chain = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        chain.push_str(&format!(" / {c}"));
        cause = c.source();
    }
    assert!(chain.contains("not on a BPF filesystem"), "{chain}");
    assert!(chain.contains("`pinned_counts`"), "{chain}");
}

#[test]
fn writing_frozen_rodata_says_it_is_read_only() {
    let mut bpf = BpfLoader::new()
        .set_global("target_port", &1u16)
        .load(NET)
        .unwrap();
    let mut rodata = GlobalData::try_from(bpf.map_mut(".rodata").unwrap()).unwrap();
    assert!(!rodata.is_writable());
    let err = rodata.set("target_port", &5u16).unwrap_err();
    assert!(matches!(err, MapError::ReadOnly { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("read-only") && text.contains("set_global"),
        "{text}"
    );
    assert_says_once(&err, "`.rodata`");
    assert!(
        err.errno().is_some(),
        "why the mapping is read-only stays reachable"
    );
    assert_eq!(rodata.get::<u16>("target_port").unwrap(), 1, "unchanged");
}

#[test]
fn a_map_size_the_kernel_refuses_says_which_sizes() {
    let err = BpfLoader::new()
        .set_global("target_tid", &0u32)
        .set_max_entries("hits", u32::MAX)
        .load(RAW_TP)
        .map(drop)
        .unwrap_err();
    let BpfError::Map {
        source: map_error, ..
    } = &err
    else {
        panic!("no map error in {err:?}");
    };
    assert!(
        matches!(map_error, MapError::TooBig { .. }),
        "{map_error:?}"
    );
    let text = map_error.to_string();
    assert!(
        text.contains(&u32::MAX.to_string()) && text.contains("set_max_entries"),
        "{text}"
    );
    assert_eq!(map_error.errno(), Some(libc::E2BIG));
}

#[test]
fn exist_and_noexist_updates_say_what_the_flag_means() {
    let mut bpf = raw_tp();
    let mut hits: HashMap<_, u32, u64> = HashMap::try_from(bpf.map_mut("hits").unwrap()).unwrap();
    let err = hits.insert(7, 1, 2).unwrap_err(); // BPF_EXIST
    assert!(matches!(err, MapError::NoKeyToUpdate { .. }), "{err:?}");
    assert!(err.to_string().contains("BPF_EXIST"), "{err}");
    assert_says_once(&err, "`hits`");
    assert_eq!(err.errno(), Some(libc::ENOENT));

    hits.insert(7, 1, 0).unwrap();
    let err = hits.insert(7, 2, 1).unwrap_err(); // BPF_NOEXIST
    assert!(matches!(err, MapError::KeyExists { .. }), "{err:?}");
    assert!(err.to_string().contains("BPF_NOEXIST"), "{err}");
    assert_eq!(err.errno(), Some(libc::EEXIST));
    hits.insert(7, 3, 2).unwrap();
    assert_eq!(hits.get(&7, 0).unwrap(), Some(3));
}

#[test]
fn detaching_an_unknown_id_names_the_program_and_the_id() {
    let mut bpf = raw_tp();
    let program: &mut RawTracePoint = bpf
        .program_mut("count_sys_enter")
        .unwrap()
        .try_into()
        .unwrap();
    program.load().unwrap();
    let id = program.attach("sys_enter").unwrap();
    program.detach(id).unwrap();
    let err = program.detach(id).unwrap_err();
    assert!(matches!(err, ProgramError::UnknownLink { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("`count_sys_enter`"), "{text}");
    assert!(
        text.contains(&id.to_string()) && !text.contains("LinkId("),
        "{text}"
    );
    assert!(text.contains("already detached"), "{text}");
}

/// Walks `err`'s chain: no level's text repeats its source's, so anyhow's `{:#}` (and
/// `ErrorChain`) print each level once; returns that one-line chain.
fn assert_chain_says_each_level_once(err: impl Error + Send + Sync + 'static) -> String {
    let mut level: Option<&(dyn Error + 'static)> = Some(&err);
    let mut levels = 0;
    while let Some(error) = level {
        levels += 1;
        if let Some(source) = error.source() {
            let (text, source_text) = (error.to_string(), source.to_string());
            assert!(
                !text.contains(&source_text),
                "level {levels} `{text}` repeats its source `{source_text}`"
            );
        }
        level = error.source();
    }
    assert!(levels >= 2, "a kernel refusal keeps its cause as a source");
    let chain = bpf_programs::ErrorChain(&err).to_string();
    assert_eq!(format!("{:#}", anyhow::Error::new(err)), chain);
    chain
}

#[test]
fn map_creation_failure_chain_says_each_level_once_and_keeps_the_errno() {
    const SIZED_AT_RUN_TIME: &[u8] = integration_tests::bpf_object!("map_sized_at_run_time.bpf.o");
    let err = BpfLoader::new()
        .set_max_entries("stacks", 1024)
        .load(SIZED_AT_RUN_TIME)
        .expect_err("a stack map with value_size 0");
    let BpfError::Map { source, .. } = &err else {
        panic!("expected a map error, got {err:?}");
    };
    assert_eq!(source.errno(), Some(libc::EINVAL), "{err}");
    let chain = assert_chain_says_each_level_once(err);
    assert_eq!(chain.matches("`stacks`").count(), 1, "{chain}");
    assert!(chain.contains("set_value_size"), "{chain}");
    assert!(chain.contains("BPF_MAP_CREATE"), "{chain}");
}

#[test]
fn program_load_failure_chain_says_each_level_once_and_keeps_the_errno() {
    const TEST_RUN: &[u8] = integration_tests::bpf_object!("prog_test_run.bpf.o");
    let mut bpf = Bpf::load(TEST_RUN).unwrap();
    let program = bpf.program_mut("misaligned_xdp").unwrap();
    program.set_load_flags(bpf_programs::programs::ProgramLoadFlags::STRICT_ALIGNMENT);
    let err = program
        .load()
        .expect_err("the verifier refuses a misaligned read");
    assert_eq!(err.errno(), Some(libc::EACCES), "{err}");
    assert!(err.verifier_log().is_some());
    let chain = assert_chain_says_each_level_once(err);
    assert_eq!(chain.matches("`misaligned_xdp`").count(), 1, "{chain}");
}

#[test]
fn attach_failure_in_attach_all_names_the_program_once() {
    const TRACEPOINT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
    let mut bpf = open_for_this_thread(TRACEPOINT);
    let program: &mut bpf_programs::programs::TracePoint =
        bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach_default().unwrap();
    // attach_all attaches it again where its section says: the kernel refuses the second.
    let err = bpf.attach_all().expect_err("attached already");
    assert_eq!(err.errno(), Some(libc::EEXIST), "{err}");
    let chain = assert_chain_says_each_level_once(err);
    assert_eq!(chain.matches("`count_getpid`").count(), 1, "{chain}");
    assert!(chain.contains("sys_enter_getpid"), "{chain}");
}
