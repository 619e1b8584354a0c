//! Skeleton generation on the committed test objects, compared with the expected code in
//! `tests/snapshots/` (`UPDATE_SNAPSHOTS=1 cargo test -p bpf-build --test skeleton_snapshots`
//! rewrites them). `tests/snapshots_compile.rs` compiles every snapshot against bpf-programs.

use std::path::{Path, PathBuf};

use bpf_build::skeleton::{SkeletonInput, generate};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Every committed `tests/bpf/obj/*.bpf.o`, by name.
fn objects() -> Vec<(String, PathBuf)> {
    let dir = workspace().join("tests/bpf/obj");
    let mut objects: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|path| {
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".bpf.o")?
                .to_owned();
            Some((name, path))
        })
        .collect();
    objects.sort();
    objects
}

fn skeleton_of(name: &str, path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    generate(&SkeletonInput {
        name,
        object: &bytes,
        // Relative to the snapshot, which `snapshots_compile.rs` includes.
        object_path: &format!("../../../tests/bpf/obj/{name}.bpf.o"),
        types_object: None,
        extra_types: &[],
        zerocopy: "::bpf_programs::zerocopy",
    })
    .unwrap_or_else(|e| panic!("skeleton of {name}: {e}"))
}

#[test]
fn skeletons_match_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut mismatched = Vec::new();
    let objects = objects();
    assert!(objects.len() > 30, "the committed test objects are missing");
    for (name, path) in &objects {
        let code = skeleton_of(name, path);
        let snapshot = snapshots.join(format!("{name}.skel.rs"));
        if update {
            std::fs::write(&snapshot, &code).unwrap();
        } else if std::fs::read_to_string(&snapshot).ok().as_deref() != Some(code.as_str()) {
            mismatched.push(name.clone());
        }
    }
    assert!(
        mismatched.is_empty(),
        "generated skeletons differ from tests/snapshots for {mismatched:?} \
         (UPDATE_SNAPSHOTS=1 rewrites them; review the diff)"
    );
}

#[test]
fn every_snapshot_is_compiled() {
    let compile = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots_compile.rs"),
    )
    .unwrap();
    for (name, _) in objects() {
        assert!(
            compile.contains(&format!("\"snapshots/{name}.skel.rs\"")),
            "tests/snapshots_compile.rs does not include the snapshot of {name}"
        );
    }
}

#[test]
fn skeleton_of_a_ring_buffer_object_names_programs_maps_and_globals() {
    let (name, path) = objects()
        .into_iter()
        .find(|(name, _)| name == "rw_execsnoop")
        .unwrap();
    let code = skeleton_of(&name, &path);
    // Sections name the program types; BTF names the map key and value types.
    for expected in [
        "pub mod rw_execsnoop {",
        "pub struct Progs {",
        "::bpf_programs::programs::TracePoint",
        "::bpf_programs::maps::RingBuf<::bpf_programs::maps::MapData>",
        "pub fn attach(&mut self)",
    ] {
        assert!(code.contains(expected), "missing `{expected}` in:\n{code}");
    }
}
