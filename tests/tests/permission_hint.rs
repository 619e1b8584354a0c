//! EPERM/EACCES from map creation, program load and attach name their likely cause. Each test
//! drops capabilities on a thread of its own (capabilities are per thread), so the kernel
//! refuses for a reason the test knows, and checks the hint names it.

use bpf_core::obj::MapDef;
use bpf_programs::BpfLoader;
use bpf_programs::kernel::permission::Cause;
use bpf_programs::kernel::privileges::{
    Capability, effective_capabilities, unprivileged_bpf_disabled,
};
use bpf_programs::maps::{MapData, MapError};
use bpf_programs::programs::{ProgramError, TracePoint};
use bpf_sys::capability::drop_effective_capabilities;
use bpf_sys::generated::bpf_map_type;
use integration_tests::{arena_refusal, error_chain, gettid, kernel_enum_has, skip};

const TRACEPOINT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");

fn bit(capability: Capability) -> u64 {
    1 << capability.number()
}

/// Runs `test` on a thread without `dropped`; `None` (after SKIPPED) when the process cannot
/// change its capabilities or lacks what the test needs to start with.
fn without<T: Send>(
    test_path: &str,
    dropped: &[Capability],
    test: impl FnOnce() -> T + Send,
) -> Option<T> {
    let caps = effective_capabilities().expect("CapEff is readable");
    if let Some(missing) = dropped.iter().find(|c| !caps.contains(**c)) {
        skip(
            test_path,
            format!("the process lacks {missing} to begin with"),
        );
        return None;
    }
    let mask = dropped.iter().fold(0, |mask, c| mask | bit(*c));
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                drop_effective_capabilities(mask).expect("dropping capabilities");
                let caps = effective_capabilities().unwrap();
                assert!(dropped.iter().all(|c| !caps.contains(*c)), "{caps:?}");
                test()
            })
            .join()
            .map(Some)
            .expect("the test thread panicked")
    })
}

fn lru_hash() -> MapDef {
    MapDef {
        map_type: bpf_map_type::BPF_MAP_TYPE_LRU_HASH,
        key_size: 4,
        value_size: 8,
        max_entries: 4,
        ..MapDef::default()
    }
}

#[test]
fn permission_hint_map_create_without_cap_bpf() {
    let test_path = "permission_hint::permission_hint_map_create_without_cap_bpf";
    let Some(result) = without(test_path, &[Capability::Bpf, Capability::SysAdmin], || {
        MapData::create_raw(&lru_hash(), "no_cap_bpf")
    }) else {
        return;
    };
    let error = result.expect_err("an LRU hash needs CAP_BPF");
    let MapError::PermissionDenied { hint, .. } = &error else {
        panic!("expected PermissionDenied, got {error:?}");
    };
    assert_eq!(error.errno(), Some(libc::EPERM));
    assert!(
        hint.causes.contains(&Cause::MissingCapability {
            capability: Capability::Bpf,
            or_sys_admin: true
        }),
        "{hint:?}"
    );
    let disabled = unprivileged_bpf_disabled().unwrap();
    assert_eq!(
        hint.causes
            .contains(&Cause::UnprivilegedBpfDisabled(disabled)),
        disabled != 0,
        "{hint:?}"
    );
    let chain = error_chain(&error);
    assert!(chain.contains("lacks CAP_BPF"), "{chain}");
    assert!(chain.contains("`no_cap_bpf`"), "{chain}");
}

#[test]
fn permission_hint_tracepoint_load_without_cap_perfmon() {
    let test_path = "permission_hint::permission_hint_tracepoint_load_without_cap_perfmon";
    let Some(error) = without(
        test_path,
        &[Capability::Perfmon, Capability::SysAdmin],
        || {
            let mut bpf = BpfLoader::new()
                .set_global("target_tid", &gettid())
                .load(TRACEPOINT)
                .unwrap();
            let program: &mut TracePoint =
                bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
            program.load().unwrap_err()
        },
    ) else {
        return;
    };
    let hint = error
        .permission_hint()
        .unwrap_or_else(|| panic!("expected a hint, got {error:?}"));
    assert_eq!(
        hint.causes,
        [Cause::MissingCapability {
            capability: Capability::Perfmon,
            or_sys_admin: true
        }]
    );
    let ProgramError::PermissionDenied { source, .. } = &error else {
        unreachable!()
    };
    assert!(matches!(**source, ProgramError::Load { .. }), "{source:?}");
    let chain = error_chain(&error);
    assert!(
        chain.contains("lacks CAP_PERFMON") && chain.contains("`count_getpid`"),
        "{chain}"
    );
}

#[test]
fn permission_hint_tracepoint_attach_without_cap_perfmon() {
    let test_path = "permission_hint::permission_hint_tracepoint_attach_without_cap_perfmon";
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok());
    if paranoid == Some(-1) {
        // Then anyone may open every tracepoint: nothing to refuse.
        skip(test_path, "kernel.perf_event_paranoid is -1");
        return;
    }
    let mut bpf = BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(TRACEPOINT)
        .unwrap();
    let program: &mut TracePoint = bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
    program.load().unwrap();
    let Some(error) = without(
        test_path,
        &[Capability::Perfmon, Capability::SysAdmin],
        || program.attach_default().unwrap_err(),
    ) else {
        return;
    };
    assert!(
        matches!(error.errno(), Some(libc::EACCES | libc::EPERM)),
        "{error:?}"
    );
    let hint = error
        .permission_hint()
        .unwrap_or_else(|| panic!("expected a hint, got {error:?}"));
    assert!(
        hint.causes.contains(&Cause::MissingCapability {
            capability: Capability::Perfmon,
            or_sys_admin: true
        }),
        "{hint:?}"
    );
    let chain = error_chain(&error);
    assert!(chain.contains("opening a perf event"), "{chain}");
}

#[test]
fn permission_hint_arena_names_cap_sys_resource_when_missing() {
    let test_path = "permission_hint::permission_hint_arena_names_cap_sys_resource_when_missing";
    let caps = effective_capabilities().unwrap();
    let def = MapDef {
        map_type: bpf_map_type::BPF_MAP_TYPE_ARENA,
        max_entries: 4,
        map_flags: bpf_programs::maps::flags::BPF_F_MMAPABLE,
        ..MapDef::default()
    };
    match MapData::create_raw(&def, "arena_hint") {
        Ok(_) => {
            assert_eq!(
                arena_refusal(),
                None,
                "the library made an arena the kernel refuses"
            );
            skip(
                test_path,
                "a raw arena map is created here: no refusal to explain",
            );
        }
        Err(MapError::MapTypeNotSupported { .. }) => {
            assert!(!kernel_enum_has("bpf_map_type", "BPF_MAP_TYPE_ARENA"));
            skip(
                test_path,
                "the kernel's enum bpf_map_type has no BPF_MAP_TYPE_ARENA",
            );
        }
        Err(error @ MapError::PermissionDenied { .. }) => {
            let chain = error_chain(&error);
            assert_eq!(
                chain.contains("lacks CAP_SYS_RESOURCE"),
                !caps.contains(Capability::SysResource),
                "{chain}"
            );
        }
        Err(error) => panic!("unexpected error: {}", error_chain(&error)),
    }
}
