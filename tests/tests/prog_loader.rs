//! Loader behaviour: BTF and CO-RE against the kernel, per-program failures, globals,
//! max_entries overrides, pinning by name, `.values` slots, verifier log levels.

use bpf_programs::maps::{ArrayOfMaps, GlobalData, HashMap, MapError};
use bpf_programs::programs::TestRunOptions;
use bpf_programs::programs::{ProgramError, RawTracePoint, VerifierLogLevel};
use bpf_programs::{Bpf, BpfError, BpfLoader, TargetBtf};
use integration_tests::{error_chain, gettid};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_loader.bpf.o");

/// A fresh bpffs directory for this test's pins.
struct PinDir(std::path::PathBuf);

impl PinDir {
    fn new(test: &str) -> PinDir {
        let path =
            std::path::PathBuf::from(format!("/sys/fs/bpf/loader_{test}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        PinDir(path)
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(pins: &PinDir) -> Bpf {
    BpfLoader::new()
        .map_pin_path(&pins.0)
        .set_global("rodata_constant", &3u64)
        .load(OBJECT)
        .expect("the object opens although some programs cannot load")
}

fn run(bpf: &mut Bpf, name: &str) -> Result<u32, ProgramError> {
    let program: &mut RawTracePoint = bpf.program_mut(name).unwrap().try_into().unwrap();
    program.load()?;
    let ctx = [0u8; 8];
    Ok(program
        .test_run(TestRunOptions::new().context(&ctx))?
        .return_value)
}

/// Whether the kernel loads a BTF blob of `types` (encoded words) over the string table
/// `"\0int\0x\0.data\0"`: `BPF_BTF_LOAD` called here directly, to check the library's probes
/// against.
fn kernel_loads_btf(types: &[u32]) -> bool {
    const STRINGS: &[u8] = b"\0int\0x\0.data\0";
    let type_len = (types.len() * 4) as u32;
    let mut blob: Vec<u8> = vec![0x9f, 0xeb, 1, 0];
    for word in [24, 0, type_len, type_len, STRINGS.len() as u32]
        .iter()
        .chain(types)
    {
        blob.extend_from_slice(&word.to_le_bytes());
    }
    blob.extend_from_slice(STRINGS);
    // union bpf_attr for BPF_BTF_LOAD: btf, btf_log_buf, btf_size, btf_log_size, btf_log_level.
    let mut attr = [0u64; 4];
    attr[0] = blob.as_ptr() as u64;
    attr[2] = blob.len() as u64;
    const BPF_BTF_LOAD: libc::c_long = 18;
    // SAFETY: bpf(2) reads `attr` (32 bytes, as passed) and the blob it points to, both alive.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_BTF_LOAD,
            attr.as_mut_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    if fd >= 0 {
        // SAFETY: the kernel just returned this fd to us.
        unsafe { libc::close(fd as i32) };
    }
    fd >= 0
}

#[test]
fn loader_btf_features_probe_finds_every_kind() {
    let features = bpf_programs::features::btf_features();
    let info = |kind: u32, flag: u32, vlen: u32| (flag << 31) | (kind << 24) | vlen;
    // Type 1 is `int` where a blob needs one to refer to.
    let int = [1, info(1, 0, 0), 4, (1 << 24) | 32];
    let with_int = |rest: &[u32]| -> Vec<u32> { int.iter().chain(rest).copied().collect() };
    let expected = bpf_core::btf::BtfFeatures {
        func: kernel_loads_btf(&with_int(&[0, info(13, 0, 0), 1, 5, info(12, 0, 0), 2])),
        func_global: kernel_loads_btf(&with_int(&[0, info(13, 0, 0), 1, 5, info(12, 0, 1), 2])),
        datasec: kernel_loads_btf(&with_int(&[
            5,
            info(14, 0, 0),
            1,
            1,
            7,
            info(15, 0, 1),
            4,
            2,
            0,
            4,
        ])),
        float: kernel_loads_btf(&[1, info(16, 0, 0), 4]),
        decl_tag: kernel_loads_btf(&with_int(&[
            5,
            info(14, 0, 0),
            1,
            1,
            3,
            info(17, 0, 0),
            2,
            u32::MAX,
        ])),
        type_tag: kernel_loads_btf(&with_int(&[3, info(18, 0, 0), 1, 0, info(2, 0, 0), 2])),
        enum64: kernel_loads_btf(&[3, info(19, 0, 1), 8, 5, 0, 1]),
        signed_enum: kernel_loads_btf(&[3, info(6, 1, 1), 4, 5, u32::MAX]),
        empty_datasec: kernel_loads_btf(&[7, info(15, 0, 0), 4]),
    };
    assert_eq!(features, expected);
    // Every kernel this runs on has FUNC, global FUNC and DATASEC (Linux 5.6).
    assert!(
        features.func && features.func_global && features.datasec,
        "{features:?}"
    );
    assert_eq!(
        bpf_programs::features::perf_link(),
        integration_tests::kernel_has_bpf_cookies()
    );
}

#[test]
fn loader_core_reads_field_of_running_kernel_and_globals() {
    let pins = PinDir::new("core");
    let mut bpf = open(&pins);
    run(&mut bpf, "core_read_pid").unwrap();
    let pinned: HashMap<_, u32, u64> =
        HashMap::try_from(bpf.map("pinned_counts").unwrap()).unwrap();
    assert_eq!(pinned.get(&0, 0).unwrap(), Some(u64::from(gettid())));
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    assert_eq!(
        bss.get::<u64>("bss_result").unwrap(),
        3 * u64::from(gettid())
    );
    let info = bpf.program("core_read_pid").unwrap().info().unwrap();
    assert!(info.btf_id().is_some(), "loaded with the object's BTF");
}

#[test]
fn loader_rodata_is_frozen() {
    let pins = PinDir::new("rodata");
    let mut bpf = open(&pins);
    let mut rodata = GlobalData::try_from(bpf.map_mut(".rodata").unwrap()).unwrap();
    assert_eq!(rodata.get::<u64>("rodata_constant").unwrap(), 3);
    assert!(!rodata.is_writable());
    assert!(rodata.set("rodata_constant", &4u64).is_err());
}

#[test]
fn loader_core_failure_is_confined_to_its_program() {
    let pins = PinDir::new("corefail");
    let mut bpf = open(&pins);
    let err = run(&mut bpf, "core_missing_field").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("core_missing_field"), "{text}");
    assert!(text.contains("nonexistent_field_xyz"), "{text}");
    assert!(err.verifier_log().is_some_and(|log| !log.is_empty()));
    assert_eq!(run(&mut bpf, "core_guarded_field").unwrap(), 7);
    run(&mut bpf, "core_read_pid").unwrap();
}

#[test]
fn loader_unresolvable_extern_fails_only_its_program() {
    let pins = PinDir::new("extern");
    let mut bpf = open(&pins);
    let err = run(&mut bpf, "uses_missing_ksym").unwrap_err();
    assert!(
        matches!(&err, ProgramError::Relocation { program, .. } if program == "uses_missing_ksym"),
        "{err:?}"
    );
    assert!(error_chain(&err).contains("no_such_ksym_xyz"), "{err}");
    assert_eq!(run(&mut bpf, "tail_target").unwrap(), 42);
}

#[test]
fn loader_fills_map_in_map_and_prog_array_slots() {
    let pins = PinDir::new("slots");
    let mut bpf = open(&pins);
    let inner_id = bpf.map("inner_a").unwrap().data().info().unwrap().id();
    let outer = ArrayOfMaps::try_from(bpf.map("outer").unwrap()).unwrap();
    assert_eq!(outer.get(0).unwrap(), Some(inner_id));
    assert_eq!(outer.get(1).unwrap(), None);
    // The tail call target's slot is filled when it loads.
    assert_eq!(
        run(&mut bpf, "tail_entry").unwrap(),
        1,
        "empty slot: no tail call"
    );
    assert_eq!(run(&mut bpf, "tail_target").unwrap(), 42);
    let entry: &mut RawTracePoint = bpf.program_mut("tail_entry").unwrap().try_into().unwrap();
    let ctx = [0u8; 8];
    let out = entry.test_run(TestRunOptions::new().context(&ctx)).unwrap();
    assert_eq!(out.return_value, 42, "tail call through the filled slot");
}

#[test]
fn loader_reuses_pinned_maps_and_checks_them() {
    let pins = PinDir::new("pins");
    let first = open(&pins);
    let id = first
        .map("pinned_counts")
        .unwrap()
        .data()
        .info()
        .unwrap()
        .id();
    assert!(pins.0.join("pinned_counts").exists());
    let second = open(&pins);
    assert_eq!(
        second
            .map("pinned_counts")
            .unwrap()
            .data()
            .info()
            .unwrap()
            .id(),
        id,
        "the pinned map is reused"
    );
    drop(first);
    drop(second);
    let err = BpfLoader::new()
        .map_pin_path(&pins.0)
        .set_max_entries("pinned_counts", 99)
        .load(OBJECT)
        .unwrap_err();
    assert!(
        matches!(&err, BpfError::Map { name, source: MapError::PinMismatch { .. } } if name == "pinned_counts"),
        "{err:?}"
    );
}

#[test]
fn loader_failed_load_leaves_no_pins() {
    let pins = PinDir::new("failed");
    let err = BpfLoader::new()
        .map_pin_path(&pins.0)
        .set_max_entries("jump_table", 0)
        .load(OBJECT)
        .unwrap_err();
    assert!(
        matches!(&err, BpfError::Map { name, .. } if name == "jump_table"),
        "{err:?}"
    );
    assert!(
        !pins.0.join("pinned_counts").exists(),
        "the pin made by the failed load was left behind"
    );
}

#[test]
fn loader_overrides_max_entries_and_rejects_unknown_names() {
    let pins = PinDir::new("maxent");
    let bpf = BpfLoader::new()
        .map_pin_path(&pins.0)
        .set_max_entries("inner_a", 1)
        .set_max_entries("pinned_counts", 64)
        .load(OBJECT)
        .unwrap();
    assert_eq!(bpf.map("pinned_counts").unwrap().data().max_entries(), 64);
    let err = BpfLoader::new()
        .set_max_entries("nope", 1)
        .load(OBJECT)
        .unwrap_err();
    assert!(
        matches!(&err, BpfError::NoSuchMap { name } if name == "nope"),
        "{err:?}"
    );
    let err = BpfLoader::new()
        .set_global("no_such_global", &1u32)
        .load(OBJECT)
        .unwrap_err();
    assert!(
        matches!(&err, BpfError::SetGlobal { name, .. } if name == "no_such_global"),
        "{err:?}"
    );
    let err = BpfLoader::new()
        .set_global("rodata_constant", &1u32)
        .load(OBJECT)
        .unwrap_err();
    assert!(err.to_string().contains("rodata_constant"), "{err}");
}

#[test]
fn loader_verifier_log_level_keeps_log_on_success() {
    let pins = PinDir::new("log");
    let mut bpf = BpfLoader::new()
        .map_pin_path(&pins.0)
        .verifier_log_level(VerifierLogLevel::DEBUG | VerifierLogLevel::STATS)
        .load(OBJECT)
        .unwrap();
    let program: &mut RawTracePoint = bpf.program_mut("tail_target").unwrap().try_into().unwrap();
    program.load().unwrap();
    assert!(
        program.verifier_log().text.contains("processed"),
        "{}",
        program.verifier_log()
    );
}

#[test]
fn loader_target_btf_from_file() {
    let pins = PinDir::new("target");
    let mut bpf = BpfLoader::new()
        .map_pin_path(&pins.0)
        .target_btf(TargetBtf::File("/sys/kernel/btf/vmlinux".into()))
        .load(OBJECT)
        .unwrap();
    run(&mut bpf, "core_read_pid").unwrap();
    let mut bpf = BpfLoader::new()
        .map_pin_path(&pins.0)
        .target_btf(TargetBtf::File("/nonexistent/vmlinux.btf".into()))
        .load(OBJECT)
        .unwrap();
    let err = run(&mut bpf, "core_read_pid").unwrap_err();
    assert!(
        matches!(&err, ProgramError::CoreTarget { program, source } if program == "core_read_pid"
            && source.path() == Some(std::path::Path::new("/nonexistent/vmlinux.btf"))
            && source.io_error().and_then(std::io::Error::raw_os_error) == Some(libc::ENOENT)),
        "{err:?}"
    );
    // Programs without CO-RE relocations do not need the target.
    assert_eq!(run(&mut bpf, "tail_target").unwrap(), 42);
}

#[test]
fn loader_kconfig_values_come_from_the_running_kernels_config() {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let has_config = std::path::Path::new(&format!("/boot/config-{}", release.trim())).exists()
        || std::path::Path::new("/proc/config.gz").exists();
    let pins = PinDir::new("kconfig_hz");
    let mut bpf = open(&pins);
    match run(&mut bpf, "kernel_config_hz") {
        Ok(hz) => {
            assert!(
                has_config,
                "CONFIG_HZ={hz} resolved without a kernel config"
            );
            assert!([100, 250, 300, 1000].contains(&hz), "CONFIG_HZ={hz}");
        }
        Err(e) if !has_config => {
            assert!(e.to_string().contains("CONFIG_"), "{e}");
            integration_tests::skip(
                "prog_loader::loader_kconfig_values_come_from_the_running_kernels_config",
                "no /boot/config-<release> and no /proc/config.gz on this kernel",
            );
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn loader_kconfig_linux_kernel_version() {
    let pins = PinDir::new("kconfig");
    let mut bpf = open(&pins);
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let major: u32 = release.split('.').next().unwrap().parse().unwrap();
    assert_eq!(run(&mut bpf, "kernel_major").unwrap(), major);
}
