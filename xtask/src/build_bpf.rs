//! `cargo xtask build-bpf [--check]`: compiles the C eBPF programs whose objects are committed.
//!
//! Each `<dir>/*.bpf.c` becomes `<dir>/obj/<name>.bpf.o`; each `<dir>/core/*.c` becomes both
//! `<dir>/obj/core/<name>.o` and, compiled with `-DTARGET`, `<dir>/obj/core/<name>.target.o`
//! (whose `.BTF` serves as the target BTF of CO-RE tests).
//!
//! The programs of `tests/bpf` are compiled a second time for arm64 into `tests/bpf/obj/arm64/`
//! (`-D__TARGET_ARCH_arm64`: `<bpf/bpf_tracing.h>` reads registers per architecture), for the
//! aarch64 guest of `cargo xtask vm-test`. They include `include/arm64/vmlinux.h`: this
//! machine's `vmlinux.h` plus the arm64 register file, CO-RE-relocated against the guest's BTF.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Folders (relative to the workspace root) holding C sources of eBPF programs.
const SOURCE_DIRS: &[&str] = &["tests/bpf"];

/// Folders whose programs are also compiled for arm64 (into `obj/arm64/`).
const ARM64_SOURCE_DIRS: &[&str] = &["tests/bpf"];

pub const CLANG: &str = "clang-19";

pub struct Job {
    pub source: PathBuf,
    pub output: PathBuf,
    defines: &'static [&'static str],
    arch: BpfArch,
}

/// The architecture whose registers `<bpf/bpf_tracing.h>` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BpfArch {
    X86,
    Arm64,
}

impl BpfArch {
    fn define(self) -> &'static str {
        match self {
            BpfArch::X86 => "-D__TARGET_ARCH_x86",
            BpfArch::Arm64 => "-D__TARGET_ARCH_arm64",
        }
    }

    /// The system headers of the architecture (`asm/`): Debian's own, or the cross ones of
    /// `libc6-dev-arm64-cross`.
    fn system_include(self) -> &'static str {
        match self {
            BpfArch::X86 => "/usr/include/x86_64-linux-gnu",
            BpfArch::Arm64 => "/usr/aarch64-linux-gnu/include",
        }
    }
}

fn c_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(suffix)))
        .collect();
    files.sort();
    files
}

pub fn jobs(root: &Path) -> Vec<Job> {
    let mut jobs = Vec::new();
    for dir_name in SOURCE_DIRS {
        let dir = Path::new(dir_name);
        for source in c_files(&root.join(dir), ".bpf.c") {
            let name = source
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .replace(".bpf.c", ".bpf.o");
            if ARM64_SOURCE_DIRS.contains(dir_name) {
                jobs.push(Job {
                    output: dir.join("obj").join("arm64").join(&name),
                    source: rel(root, &source),
                    defines: &[],
                    arch: BpfArch::Arm64,
                });
            }
            jobs.push(Job {
                output: dir.join("obj").join(name),
                source: rel(root, &source),
                defines: &[],
                arch: BpfArch::X86,
            });
        }
        for source in c_files(&root.join(dir).join("core"), ".c") {
            let stem = source.file_stem().unwrap().to_str().unwrap().to_string();
            let out = dir.join("obj/core");
            let source = rel(root, &source);
            jobs.push(Job {
                output: out.join(format!("{stem}.o")),
                source: source.clone(),
                defines: &[],
                arch: BpfArch::X86,
            });
            jobs.push(Job {
                output: out.join(format!("{stem}.target.o")),
                source,
                defines: &["-DTARGET"],
                arch: BpfArch::X86,
            });
        }
    }
    jobs
}

fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Where sources are staged before compiling: clang's BTF output depends on where it runs, so
/// every checkout compiles from this one fixed place to get byte-identical objects.
const STAGE: &str = "/tmp/bpf-programs-build-bpf";

/// Copies the source folders (not their objects) to [`STAGE`], following symlinks.
pub fn stage_sources(root: &Path) -> Result<PathBuf, String> {
    let stage = PathBuf::from(STAGE);
    let _ = fs::remove_dir_all(&stage);
    for dir in SOURCE_DIRS {
        copy_tree(&root.join(dir), &stage.join(dir))?;
    }
    Ok(stage)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "obj") {
            continue;
        }
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Compiles one staged source; paths are relative so objects do not name the checkout.
pub fn compile(stage: &Path, job: &Job, output: &Path) -> Result<(), String> {
    if let Some(parent) = output.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let source_dir = job.source.parent().unwrap_or(Path::new("."));
    if job.arch == BpfArch::Arm64 && !Path::new(job.arch.system_include()).is_dir() {
        return Err(format!(
            "{} missing: arm64 objects need libc6-dev-arm64-cross (with gcc-aarch64-linux-gnu)",
            job.arch.system_include()
        ));
    }
    let mut cmd = Command::new(CLANG);
    cmd.current_dir(stage)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args([
            "-O2",
            "-g",
            "-target",
            "bpf",
            job.arch.define(),
            "-Wall",
            "-Werror",
        ])
        .arg(format!("-fdebug-prefix-map={}=.", stage.display()));
    if job.arch == BpfArch::Arm64 {
        cmd.arg("-I").arg(source_dir.join("include").join("arm64"));
    }
    cmd.arg("-I")
        .arg(source_dir.join("include"))
        .arg("-I")
        .arg(
            source_dir
                .parent()
                .unwrap_or(Path::new("."))
                .join("include"),
        )
        .args([
            "-idirafter",
            "/usr/include",
            "-idirafter",
            job.arch.system_include(),
        ])
        .args(job.defines)
        .arg("-c")
        .arg(&job.source)
        .arg("-o")
        .arg(output);
    let out = cmd
        .output()
        .map_err(|e| format!("running {CLANG}: {e} (install clang-19)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{CLANG} failed on {}:\n{}",
            job.source.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The example crates' C programs (each built by its own `build.rs` through bpf-build), staged
/// beside the others with an empty `include/vmlinux.h` for the caller to fill, as jobs.
pub fn stage_examples(root: &Path, stage: &Path) -> Result<Vec<Job>, String> {
    let mut crates: Vec<PathBuf> = fs::read_dir(root.join("examples"))
        .map_err(|e| format!("{}/examples: {e}", root.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("src/bpf"))
        .filter(|p| p.is_dir())
        .collect();
    crates.sort();
    let mut jobs = Vec::new();
    for dir in crates {
        let relative = rel(root, &dir);
        let staged = stage.join(&relative);
        copy_tree(&dir, &staged)?;
        let include = staged.join("include");
        fs::create_dir_all(&include).map_err(|e| format!("{}: {e}", include.display()))?;
        fs::write(include.join("vmlinux.h"), "")
            .map_err(|e| format!("{}: {e}", include.display()))?;
        for source in c_files(&dir, ".bpf.c") {
            let name = source.file_name().unwrap().to_str().unwrap();
            let example = relative
                .parent()
                .and_then(Path::parent)
                .unwrap_or(&relative);
            jobs.push(Job {
                output: example.join("obj").join(name.replace(".bpf.c", ".bpf.o")),
                source: relative.join(name),
                defines: &[],
                arch: BpfArch::X86,
            });
        }
    }
    Ok(jobs)
}

/// The staged copy of `vmlinux.h` an example job's source includes.
pub fn example_header(stage: &Path, job: &Job) -> PathBuf {
    stage
        .join(job.source.parent().unwrap_or(Path::new(".")))
        .join("include/vmlinux.h")
}

/// Holds the lock on the shared staging folder while alive.
pub fn lock_stage() -> Result<fs::File, String> {
    let lock =
        fs::File::create(format!("{STAGE}.lock")).map_err(|e| format!("{STAGE}.lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("locking {STAGE}.lock: {e}"))?;
    Ok(lock)
}

/// The staged copies of `vmlinux.h` the sources include.
pub fn staged_headers(stage: &Path) -> Vec<PathBuf> {
    SOURCE_DIRS
        .iter()
        .map(|dir| stage.join(dir).join("include/vmlinux.h"))
        .filter(|p| p.is_file())
        .collect()
}

pub fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => return Err("usage: cargo xtask build-bpf [--check]".into()),
    };
    let root = crate::workspace_root();
    // Checkouts share the fixed staging folder: one build at a time.
    let _lock = lock_stage()?;
    let stage = stage_sources(&root)?;
    let mut stale = Vec::new();
    for job in jobs(&root) {
        let staged_output = Path::new("out").join(&job.output);
        compile(&stage, &job, &stage.join(&staged_output))?;
        let fresh = fs::read(stage.join(&staged_output)).map_err(|e| e.to_string())?;
        let destination = root.join(&job.output);
        if check {
            if fs::read(&destination).unwrap_or_default() != fresh {
                stale.push(job.output.display().to_string());
            }
        } else {
            fs::create_dir_all(destination.parent().unwrap_or(&root)).map_err(|e| e.to_string())?;
            fs::write(&destination, fresh)
                .map_err(|e| format!("{}: {e}", destination.display()))?;
            println!("built {}", job.output.display());
        }
    }
    let _ = fs::remove_dir_all(&stage);
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "committed objects differ from their sources: {}; run `cargo xtask build-bpf`",
            stale.join(", ")
        ))
    }
}
