//! A C struct changed without anyone touching the Rust side cannot go unnoticed: the build
//! reruns because the header is an input (clang's dependency file), the regenerated type follows
//! the C, and a hand-written Rust type tied to the C one stops compiling.

use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCE: &str = r#"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct event);
} events SEC(".maps");

SEC("tp/sched/sched_process_exec")
int on_exec(void *ctx)
{
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct event e = { .pid = pid };

    bpf_map_update_elem(&events, &pid, &e, BPF_ANY);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
"#;

const EVENT_V1: &str = "struct event { __u32 pid; __u32 uid; };\n";
const EVENT_V2: &str = "struct event { __u32 pid; __u32 uid; __u64 started_ns; };\n";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = workspace()
        .join("target")
        .join("bpf-build-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src/bpf")).unwrap();
    dir
}

/// Why this machine cannot build eBPF C, if it cannot.
fn missing_toolchain() -> Option<String> {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("no kernel BTF at /sys/kernel/btf/vmlinux".into());
    }
    if !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        return Some("no libbpf headers (libbpf-dev)".into());
    }
    let found = std::env::var_os("CLANG").is_some()
        || std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|dir| {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name == "clang"
                        || name
                            .strip_prefix("clang-")
                            .is_some_and(|v| v.parse::<u32>().is_ok())
                })
        });
    (!found).then(|| "no clang".into())
}

/// The size the skeleton's assertion gives `struct event`.
fn skeleton_size_of_event(skeleton: &Path) -> u32 {
    let code = std::fs::read_to_string(skeleton).unwrap();
    let line = code
        .lines()
        .find(|l| l.contains("size_of::<event>() =="))
        .unwrap_or_else(|| panic!("no size assertion for `event` in:\n{code}"));
    let after = line.split("size_of::<event>() ==").nth(1).unwrap();
    after
        .trim()
        .trim_end_matches(';')
        .trim_end_matches(')')
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn header_is_an_input_and_its_change_regenerates_the_type() {
    if let Some(reason) = missing_toolchain() {
        println!(
            "SKIPPED stale_types::header_is_an_input_and_its_change_regenerates_the_type: {reason}"
        );
        return;
    }
    let dir = scratch("inputs");
    std::fs::write(dir.join("src/bpf/prog.bpf.c"), SOURCE).unwrap();
    std::fs::write(dir.join("src/bpf/event.h"), EVENT_V1).unwrap();
    let build = || {
        bpf_build::Builder::new()
            .source(dir.join("src/bpf/prog.bpf.c"))
            .out_dir(dir.join("out"))
            .cargo_directives(false)
            .build()
            .unwrap()
    };
    let first = build();
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    assert!(
        first.inputs.iter().any(|p| p.ends_with("event.h")),
        "the included header is not among the inputs: {:?}",
        first.inputs
    );
    assert!(first.inputs.iter().any(|p| p.ends_with("prog.bpf.c")));
    assert!(
        first
            .inputs
            .iter()
            .any(|p| p == Path::new("/sys/kernel/btf/vmlinux"))
    );
    let skeleton = &first.objects[0].skeleton;
    assert_eq!(skeleton_size_of_event(skeleton), 8);

    // The new header also warns: clang's warnings come back with the output.
    std::fs::write(
        dir.join("src/bpf/event.h"),
        format!("{EVENT_V2}#warning \"event grew\"\n"),
    )
    .unwrap();
    let second = build();
    assert_eq!(skeleton_size_of_event(skeleton), 16);
    assert!(
        second.warnings.iter().any(|w| w.contains("event grew")),
        "{:?}",
        second.warnings
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A whole crate built by cargo twice: the second build, after the header changed and nothing
/// else, reruns the build script and fails on the stale hand-written type; a third, after a map
/// was renamed in C, fails where Rust uses the old name. The crate also compiles the kernel's
/// `task_struct` generated as Rust.
#[test]
fn cargo_reruns_and_stale_types_and_names_fail_to_compile() {
    if let Some(reason) = missing_toolchain() {
        println!(
            "SKIPPED stale_types::cargo_reruns_and_stale_types_and_names_fail_to_compile: {reason}"
        );
        return;
    }
    let dir = scratch("crate");
    let ws = workspace();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"stale-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             [dependencies]\nbpf-programs = {{ path = {:?} }}\n\
             [build-dependencies]\nbpf-build = {{ path = {:?} }}\n[workspace]\n",
            ws.join("bpf-programs"),
            ws.join("bpf-build")
        ),
    )
    .unwrap();
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() -> Result<(), bpf_build::Error> {\n    \
         bpf_build::Builder::new()\n        .source(\"src/bpf/prog.bpf.c\")\n        \
         .kernel_types([\"task_struct\"])\n        .build()?;\n    Ok(())\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"include!(concat!(env!("OUT_DIR"), "/prog.skel.rs"));
include!(concat!(env!("OUT_DIR"), "/vmlinux.rs"));

use bpf_programs::zerocopy::{FromBytes, Immutable, IntoBytes};

/// Written by hand against event.h, and tied to it.
#[derive(Clone, Copy, FromBytes, IntoBytes, Immutable)]
#[zerocopy(crate = "bpf_programs::zerocopy")]
#[repr(C)]
struct Event {
    pid: u32,
    uid: u32,
}

const _: () = assert!(
    size_of::<Event>() == size_of::<prog::types::event>(),
    "Event is stale: struct event changed in C"
);

/// Reaches the map by its field, as user code does.
fn capacity(skel: &prog::Skel) -> u32 {
    skel.maps.events.map_data().max_entries()
}

fn main() {
    let _ = (prog::open, capacity);
    // Kernel types compile too, their layout asserted against the kernel's BTF.
    let _ = size_of::<vmlinux::task_struct>();
}
"#,
    )
    .unwrap();
    std::fs::write(dir.join("src/bpf/prog.bpf.c"), SOURCE).unwrap();
    std::fs::write(dir.join("src/bpf/event.h"), EVENT_V1).unwrap();
    let cargo = || {
        Command::new(env!("CARGO"))
            .args(["build", "--offline", "--quiet"])
            .current_dir(&dir)
            // Its own target folder: the outer cargo holds the workspace's.
            .env("CARGO_TARGET_DIR", ws.join("target/bpf-build-tests/target"))
            .output()
            .unwrap()
    };
    let first = cargo();
    assert!(
        first.status.success(),
        "first build failed:\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    std::fs::write(dir.join("src/bpf/event.h"), EVENT_V2).unwrap();
    let second = cargo();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "the stale type compiled:\n{stderr}"
    );
    assert!(
        stderr.contains("Event is stale: struct event changed in C"),
        "failed for another reason:\n{stderr}"
    );

    // The header back as the Rust side knows it, but the map renamed in C: the field the Rust
    // side uses is gone, a compile error rather than a `None` at run time.
    std::fs::write(dir.join("src/bpf/event.h"), EVENT_V1).unwrap();
    std::fs::write(
        dir.join("src/bpf/prog.bpf.c"),
        SOURCE
            .replace("} events SEC", "} exec_events SEC")
            .replace("(&events,", "(&exec_events,"),
    )
    .unwrap();
    let third = cargo();
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(!third.status.success(), "a renamed map compiled:\n{stderr}");
    assert!(
        stderr.contains("no field `events`"),
        "failed for another reason:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
