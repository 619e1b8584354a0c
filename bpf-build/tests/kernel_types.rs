//! Kernel types on demand: `task_struct` and everything it reaches, as Rust.

use std::path::Path;

#[test]
fn task_struct_from_the_kernel_btf() {
    let btf = Path::new("/sys/kernel/btf/vmlinux");
    if !btf.exists() {
        println!(
            "SKIPPED kernel_types::task_struct_from_the_kernel_btf: no /sys/kernel/btf/vmlinux"
        );
        return;
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bpf-build-tests")
        .join(format!("kernel-types-{}", std::process::id()));
    let output = bpf_build::Builder::new()
        .kernel_types(["task_struct"])
        .vmlinux_header(false)
        .out_dir(&out)
        .cargo_directives(false)
        .build()
        .unwrap();
    let code = std::fs::read_to_string(output.kernel_types.unwrap()).unwrap();
    assert!(code.contains("pub mod vmlinux {"));
    assert!(code.contains("pub struct task_struct {"));
    assert!(code.contains("size_of::<task_struct>() =="));
    let _ = std::fs::remove_dir_all(&out);
}
