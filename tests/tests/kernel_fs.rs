//! Kernel filesystems mounted on first need: on a thread with a mount namespace of its own,
//! where tracefs and bpffs were unmounted first, a tracepoint still attaches and fires and maps
//! still pin; without CAP_SYS_ADMIN the error says what is missing and how to mount it.

use std::path::{Path, PathBuf};

use bpf_programs::BpfLoader;
use bpf_programs::kernel::fs::{BPFFS, KernelFs, KernelFsError, TRACEFS};
use bpf_programs::maps::{HashMap, MapInfo};
use bpf_programs::programs::{ProgramError, TracePoint, TracePointError};
use bpf_sys::mount::{
    BPF_FS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC, filesystem_magic, unmount, unshare_mount_namespace,
};
use integration_tests::{counter, getpid_n, gettid, skip};

const TRACEPOINT: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
const LOADER: &[u8] = integration_tests::bpf_object!("prog_loader.bpf.o");

fn magic(path: &str) -> Option<u32> {
    filesystem_magic(Path::new(path)).ok()
}

/// Unmounts every filesystem of kind `magic` stacked at `path`.
fn unmount_all(path: &str, magic_number: u32) {
    while magic(path) == Some(magic_number) {
        unmount(Path::new(path)).unwrap_or_else(|e| panic!("unmounting {path}: {e}"));
    }
}

/// Runs `test` on a thread whose mount namespace is its own (nothing propagates back) and has
/// neither tracefs (nor debugfs, which would expose it) nor bpffs; `None` after the SKIPPED
/// line when no such namespace can be made.
fn without_kernel_filesystems<T: Send>(
    test_path: &str,
    test: impl FnOnce() -> T + Send,
) -> Option<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if let Err(e) = unshare_mount_namespace() {
                    skip(
                        test_path,
                        format!("cannot make a private mount namespace: {e}"),
                    );
                    return None;
                }
                unmount_all(TRACEFS, TRACEFS_MAGIC);
                unmount_all("/sys/kernel/debug", DEBUGFS_MAGIC);
                unmount_all(BPFFS, BPF_FS_MAGIC);
                assert_ne!(magic(TRACEFS), Some(TRACEFS_MAGIC));
                assert_ne!(magic("/sys/kernel/debug/tracing"), Some(TRACEFS_MAGIC));
                assert_ne!(magic(BPFFS), Some(BPF_FS_MAGIC));
                Some(test())
            })
            .join()
            .expect("the test thread panicked")
    })
}

#[test]
fn kernel_fs_tracepoint_attaches_with_tracefs_unmounted() {
    let host_before = magic(TRACEFS);
    let outcome = without_kernel_filesystems(
        "kernel_fs::kernel_fs_tracepoint_attaches_with_tracefs_unmounted",
        || {
            let mut bpf = BpfLoader::new()
                .set_global("target_tid", &gettid())
                .load(TRACEPOINT)
                .unwrap();
            let program: &mut TracePoint =
                bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
            program.load().unwrap();
            program.attach_default().unwrap();
            getpid_n(25);
            (counter(&bpf, "hits"), magic(TRACEFS))
        },
    );
    let Some((fired, tracefs_after)) = outcome else {
        return;
    };
    assert!(fired >= 25, "counted {fired} getpid() calls, expected 25");
    assert_eq!(
        tracefs_after,
        Some(TRACEFS_MAGIC),
        "tracefs was mounted at {TRACEFS}"
    );
    assert_eq!(magic(TRACEFS), host_before, "the host's mounts changed");
}

#[test]
fn kernel_fs_maps_pin_with_bpffs_unmounted() {
    let host_before = magic(BPFFS);
    let dir = PathBuf::from(format!("{BPFFS}/kernel_fs_{}", std::process::id()));
    let outcome =
        without_kernel_filesystems("kernel_fs::kernel_fs_maps_pin_with_bpffs_unmounted", || {
            // Pinning by name creates the pin directory inside the freshly mounted bpffs.
            let bpf = BpfLoader::new()
                .map_pin_path(&dir)
                .load(LOADER)
                .expect("the object opens and pins its map");
            let pinned = MapInfo::from_pin(dir.join("pinned_counts")).unwrap();
            let own = bpf.map("pinned_counts").unwrap().data().info().unwrap();
            assert_eq!(pinned.id(), own.id(), "the pin is the object's map");

            let mut map = HashMap::<_, u32, u64>::create(4, 0).unwrap();
            let explicit = dir.join("explicit");
            map.pin(&explicit).unwrap();
            assert_eq!(
                MapInfo::from_pin(&explicit).unwrap().id(),
                map.info().unwrap().id()
            );
            (magic(BPFFS), magic(dir.to_str().unwrap()))
        });
    let Some((root, directory)) = outcome else {
        return;
    };
    assert_eq!(root, Some(BPF_FS_MAGIC), "bpffs was mounted at {BPFFS}");
    assert_eq!(directory, Some(BPF_FS_MAGIC));
    assert_eq!(magic(BPFFS), host_before, "the host's mounts changed");
    assert!(!dir.exists(), "the pins stayed in the private namespace");
}

#[test]
fn kernel_fs_without_cap_sys_admin_says_how_to_mount() {
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    let outcome = without_kernel_filesystems(
        "kernel_fs::kernel_fs_without_cap_sys_admin_says_how_to_mount",
        || {
            let mut bpf = BpfLoader::new()
                .set_global("target_tid", &gettid())
                .load(TRACEPOINT)
                .unwrap();
            let program: &mut TracePoint =
                bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
            program.load().unwrap();
            bpf_sys::capability::drop_effective_capabilities(CAP_SYS_ADMIN).unwrap();
            let program: &mut TracePoint =
                bpf.program_mut("count_getpid").unwrap().try_into().unwrap();
            program.attach_default().unwrap_err()
        },
    );
    let Some(error) = outcome else {
        return;
    };
    let ProgramError::TracePoint(tracepoint_error) = &error else {
        panic!("expected a tracefs error, got {error:?}");
    };
    let TracePointError::TraceFs { source, .. } = &**tracepoint_error else {
        panic!("expected a tracefs error, got {error:?}");
    };
    let KernelFsError::NotMounted {
        fs,
        command,
        source,
        ..
    } = source
    else {
        panic!("expected NotMounted, got {source:?}");
    };
    assert_eq!(*fs, KernelFs::Tracefs);
    assert_eq!(source.raw_os_error(), Some(libc::EPERM));
    assert_eq!(command, "mount -t tracefs tracefs /sys/kernel/tracing");
    let chain = integration_tests::error_chain(&error);
    assert!(
        chain.contains("tracefs is not mounted at /sys/kernel/tracing")
            && chain.contains(command.as_str()),
        "{chain}"
    );
}
