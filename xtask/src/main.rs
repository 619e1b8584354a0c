//! Developer tasks: `cargo xtask <task>`.

mod bench_btf;
mod bench_load;
mod bench_readers;
mod btf_roundtrip;
mod build_bpf;
mod build_kernel;
mod codegen;
mod fetch_kernel;
mod kernel_types;
mod load_compare;
mod structure;
mod summary;
mod test;
mod vm_test;
mod vmlinux_h;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
         codegen [--check]   regenerate bpf-sys/src/generated (or check it is up to date)\n  \
         build-bpf [--check] compile the C eBPF programs whose objects are committed\n  \
         test [cargo args]   run every test against this machine's kernel\n  \
         vm-test [--help]    run the integration tests on a second kernel under qemu\n  \
         bench-load [object] time a first load of an object, ours against libbpf\n  \
         bench-readers [case] ring buffer, perf buffer and lookup throughput, ours against libbpf\n  \
         summary             per program type results of test and vm-test, side by side\n  \
         check-structure [--report] import cycles, Result<_, String>, long functions in the libraries\n  \
         fetch-kernel [--arch A] <suite>  unpack the newest Debian kernel of apt suites\n  \
         build-kernel        build (once, cached) the kernel where lirc_mode2 fires\n  \
         vmlinux-h [--btf F] write a BTF (default: this kernel's) as a C header, like bpftool\n  \
         btf-roundtrip       compile written headers with clang and compare the BTF with its source\n  \
         kernel-types TYPE.. kernel types (default: this kernel's) as Rust, e.g. task_struct"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        return usage();
    };
    let result = match task.as_str() {
        "codegen" => codegen::run(rest),
        "test" => test::run(rest),
        "build-bpf" => build_bpf::run(rest),
        "bench-btf" => bench_btf::run(rest),
        "bench-load" => bench_load::run(rest),
        "bench-readers" => bench_readers::run(rest),
        "vm-test" => vm_test::run(rest),
        "summary" => summary::run(rest),
        "fetch-kernel" => fetch_kernel::run(rest),
        "build-kernel" => build_kernel::run_task(rest),
        "check-structure" => structure::run(rest),
        "vmlinux-h" => vmlinux_h::run(rest),
        "btf-roundtrip" => btf_roundtrip::run(rest),
        "kernel-types" => kernel_types::run(rest),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, found from this crate's manifest directory.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
