//! `btf dump --format c|rust`: BTF of an object file and of the running kernel written as C (the
//! C compiled by clang) and as Rust types, whole or only the named types.

use std::path::{Path, PathBuf};
use std::process::Command;

use bpf_inspect::run_args;

fn object(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf/obj")
        .join(name)
        .display()
        .to_string()
}

fn text(args: &[&str]) -> String {
    run_args(args)
        .unwrap_or_else(|e| panic!("bpf-inspect {args:?}: {}", e.chain()))
        .1
}

/// The first of `clang-19`, `clang` that runs.
fn clang() -> Option<&'static str> {
    ["clang-19", "clang"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpf-inspect-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn c_dump_of_an_object_compiles_and_holds_its_types() {
    const TEST: &str = "btf_dump::c_dump_of_an_object_compiles_and_holds_its_types";
    let header = text(&[
        "btf",
        "dump",
        &object("inspect_programs.bpf.o"),
        "--format",
        "c",
    ]);
    assert!(header.starts_with("#ifndef __VMLINUX_H__"), "{header}");
    assert!(header.contains("struct conn {\n"), "{header}");
    assert!(header.contains("\t__u16 flags: 4;\n"), "{header}");
    assert!(header.contains("enum conn_state {\n"), "{header}");
    let Some(clang) = clang() else {
        println!("SKIPPED {TEST}: no clang-19 or clang to compile the header");
        return;
    };
    let dir = scratch("c");
    std::fs::write(dir.join("vmlinux.h"), &header).unwrap();
    // The header's struct must be the object's: same size, bitfields at their place.
    std::fs::write(
        dir.join("use.c"),
        "#include \"vmlinux.h\"\n\
         _Static_assert(sizeof(struct conn) == 40, \"size\");\n\
         _Static_assert(__builtin_offsetof(struct conn, state) == 8, \"state\");\n\
         struct conn probe;\n",
    )
    .unwrap();
    let out = Command::new(clang)
        .args(["-target", "bpf", "-fsyntax-only", "use.c"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rust_dump_of_named_types_only() {
    let object = object("inspect_programs.bpf.o");
    let code = text(&["btf", "dump", &object, "--format", "rust", "--type", "conn"]);
    assert!(code.contains("pub struct conn {\n"), "{code}");
    assert!(
        code.contains("assert!(::core::mem::size_of::<conn>() == 40);"),
        "{code}"
    );
    assert!(code.contains("pub fn set_prio(&mut self"), "{code}");
    // What `conn` contains comes along; the maps' anonymous definitions do not.
    assert!(code.contains("pub struct conn_state("), "{code}");
    assert!(!code.contains("max_entries"), "{code}");
    let c = text(&["btf", "dump", &object, "--format", "c", "--type", "conn"]);
    assert!(c.contains("struct conn {\n"), "{c}");
    assert!(!c.contains("#ifndef __VMLINUX_H__"), "{c}");
    let state = text(&[
        "btf",
        "dump",
        &object,
        "--format",
        "rust",
        "--type",
        "conn_state",
    ]);
    assert!(
        state.contains("pub const CONN_STOPPED: Self = Self(9);"),
        "{state}"
    );
    assert!(!state.contains("pub struct conn {"), "{state}");
    let whole = text(&["btf", "dump", &object, "--format", "rust"]);
    assert!(whole.contains("pub struct conn {\n"), "{whole}");
}

#[test]
fn rust_dump_of_a_kernel_type() {
    const TEST: &str = "btf_dump::rust_dump_of_a_kernel_type";
    let vmlinux = "/sys/kernel/btf/vmlinux";
    if !Path::new(vmlinux).exists() {
        println!("SKIPPED {TEST}: no {vmlinux}");
        return;
    }
    let code = text(&[
        "btf",
        "dump",
        vmlinux,
        "--format",
        "rust",
        "--type",
        "task_struct",
    ]);
    assert!(code.contains("pub struct task_struct {\n"), "{code}");
    assert!(code.contains("pub pid: pid_t,"), "{code}");
}

#[test]
fn dump_errors_name_the_type_and_the_format() {
    let object = object("inspect_programs.bpf.o");
    let err = run_args(&[
        "btf",
        "dump",
        &object,
        "--format",
        "rust",
        "--type",
        "no_such_type",
    ])
    .unwrap_err();
    assert!(err.chain().contains("`no_such_type`"), "{}", err.chain());
    let err = run_args(&["btf", "dump", &object, "--type", "conn"]).unwrap_err();
    assert!(
        err.chain().contains("--type needs --format c or rust"),
        "{}",
        err.chain()
    );
}
