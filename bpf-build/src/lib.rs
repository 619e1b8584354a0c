//! Compile eBPF C programs from `build.rs` and get a typed Rust API for each object.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), bpf_build::Error> {
//!     bpf_build::Builder::new()
//!         .source("src/bpf/exec.bpf.c")
//!         .build()?;
//!     Ok(())
//! }
//! ```
//!
//! ```text
//! // src/main.rs (see docs/GUIDE.md for the whole tool)
//! include!(concat!(env!("OUT_DIR"), "/exec.skel.rs"));
//!
//! let mut skel = exec::open()?.load()?;
//! skel.attach()?;
//! ```
//!
//! For each source `<name>.bpf.c`, [`Builder::build`]:
//! - writes `vmlinux.h` from BTF (the running kernel's `/sys/kernel/btf/vmlinux`, or the file
//!   given to [`Builder::btf_file`] or `$BPF_BUILD_BTF`) into `OUT_DIR` and puts it on the
//!   include path; `<bpf/bpf_helpers.h>` and the other libbpf headers come from the system
//!   (Debian/Ubuntu: `libbpf-dev`);
//! - compiles it with clang (`$CLANG`, else `clang`, else the newest `clang-NN` on `PATH`):
//!   `-O2 -g -target bpf`, `__TARGET_ARCH_*` from `CARGO_CFG_TARGET_ARCH`, clang's warnings
//!   shown as cargo warnings, into `OUT_DIR/<name>.bpf.o`;
//! - tells cargo to rerun when the source, any header it included (clang's dependency file) or
//!   the BTF changes;
//! - writes the skeleton `OUT_DIR/<name>.skel.rs`: a module `<name>` whose `Skel` has the
//!   object's programs, maps and globals as typed fields (see [`skeleton`]).

mod btfgen;
mod clang;
mod error;
mod names;
pub mod skeleton;

use std::path::{Path, PathBuf};

pub use error::Error;

/// The running kernel's BTF.
const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// The environment variable naming a BTF file to use when the build script names none.
const BTF_ENV: &str = "BPF_BUILD_BTF";

/// One C source and the types to generate from it besides those its maps and globals use.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    types: Vec<String>,
}

impl Source {
    /// The C file at `path` (relative paths are taken from the crate's directory).
    pub fn new(path: impl Into<PathBuf>) -> Source {
        Source {
            path: path.into(),
            types: Vec::new(),
        }
    }

    /// C types to generate as Rust even if no map or global uses them, spelled as in C:
    /// `"struct event"`, `"enum state"`, `"pid_t"`. Typical: a ring buffer's event struct,
    /// which clang leaves out of the object's BTF; the source is compiled once more with a
    /// variable of each type so their BTF exists.
    pub fn types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Source {
        self.types.extend(types.into_iter().map(Into::into));
        self
    }

    /// The object's name: the file name without `.bpf.c` (or `.c`).
    pub fn name(&self) -> String {
        let file = self
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        file.strip_suffix(".bpf.c")
            .or_else(|| file.strip_suffix(".c"))
            .unwrap_or(&file)
            .to_owned()
    }
}

impl<P: Into<PathBuf>> From<P> for Source {
    fn from(path: P) -> Source {
        Source::new(path)
    }
}

/// Settings for compiling eBPF C sources; [`build`](Self::build) runs them.
#[derive(Debug, Clone)]
pub struct Builder {
    sources: Vec<Source>,
    include_dirs: Vec<PathBuf>,
    defines: Vec<(String, Option<String>)>,
    clang_args: Vec<String>,
    btf: Option<PathBuf>,
    vmlinux_header: bool,
    kernel_types: Vec<String>,
    zerocopy: String,
    out_dir: Option<PathBuf>,
    target_arch: Option<String>,
    cargo_directives: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// One compiled object and its skeleton.
#[derive(Debug, Clone)]
pub struct BuiltObject {
    /// The module name of its skeleton (the source's name).
    pub name: String,
    /// `OUT_DIR/<name>.bpf.o`.
    pub object: PathBuf,
    /// `OUT_DIR/<name>.skel.rs`.
    pub skeleton: PathBuf,
}

/// What [`Builder::build`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// One entry per source, in the order given.
    pub objects: Vec<BuiltObject>,
    /// The `vmlinux.h` written from BTF, when one was.
    pub vmlinux_header: Option<PathBuf>,
    /// `OUT_DIR/vmlinux.rs` (module `vmlinux`), when kernel types were asked for.
    pub kernel_types: Option<PathBuf>,
    /// Every file the outputs depend on (sources, included headers, the BTF).
    pub inputs: Vec<PathBuf>,
    /// clang's warnings, line by line (also printed as `cargo:warning=` lines).
    pub warnings: Vec<String>,
}

impl Builder {
    /// No sources yet; the running kernel's BTF; generated types derive through
    /// `::bpf_programs::zerocopy`.
    pub fn new() -> Builder {
        Builder {
            sources: Vec::new(),
            include_dirs: Vec::new(),
            defines: Vec::new(),
            clang_args: Vec::new(),
            btf: None,
            vmlinux_header: true,
            kernel_types: Vec::new(),
            zerocopy: "::bpf_programs::zerocopy".to_owned(),
            out_dir: None,
            target_arch: None,
            cargo_directives: true,
        }
    }

    /// Adds a C source (a path, or a [`Source`] naming extra types).
    pub fn source(mut self, source: impl Into<Source>) -> Builder {
        self.sources.push(source.into());
        self
    }

    /// Adds an include directory (`-I`), searched before the system's.
    pub fn include_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.include_dirs.push(dir.into());
        self
    }

    /// Defines a preprocessor macro (`-DNAME` or `-DNAME=VALUE`).
    pub fn define(mut self, name: &str, value: Option<&str>) -> Builder {
        self.defines
            .push((name.to_owned(), value.map(ToOwned::to_owned)));
        self
    }

    /// Passes an argument to clang as is (e.g. `-Wall`).
    pub fn clang_arg(mut self, arg: impl Into<String>) -> Builder {
        self.clang_args.push(arg.into());
        self
    }

    /// BTF to write `vmlinux.h` and kernel types from, instead of the running kernel's: raw BTF
    /// (a copy of some kernel's `/sys/kernel/btf/vmlinux`) or an ELF with `.BTF` (for cross
    /// builds and reproducible CI). Without it, `$BPF_BUILD_BTF` names the file if set.
    pub fn btf_file(mut self, path: impl Into<PathBuf>) -> Builder {
        self.btf = Some(path.into());
        self
    }

    /// Whether to write `vmlinux.h` (default: yes); off when the sources bring their own.
    pub fn vmlinux_header(mut self, write: bool) -> Builder {
        self.vmlinux_header = write;
        self
    }

    /// Kernel types to generate as Rust (`task_struct`, ...) into `OUT_DIR/vmlinux.rs`, a module
    /// `vmlinux` with every type they reach.
    pub fn kernel_types<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Builder {
        self.kernel_types.extend(names.into_iter().map(Into::into));
        self
    }

    /// The path generated types derive zerocopy's traits through (default
    /// `::bpf_programs::zerocopy`; `::zerocopy` for crates depending on zerocopy directly).
    pub fn zerocopy_path(mut self, path: impl Into<String>) -> Builder {
        self.zerocopy = path.into();
        self
    }

    /// Where outputs go (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// The Rust target architecture (default: `$CARGO_CFG_TARGET_ARCH`, else the host's).
    pub fn target_arch(mut self, arch: impl Into<String>) -> Builder {
        self.target_arch = Some(arch.into());
        self
    }

    /// Whether to print `cargo:` directives (rerun-if-changed, warnings); default yes.
    pub fn cargo_directives(mut self, print: bool) -> Builder {
        self.cargo_directives = print;
        self
    }

    /// Compiles every source and writes objects, skeletons, `vmlinux.h` and kernel types.
    pub fn build(&self) -> Result<Output, Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let work = out_dir.join("bpf-build");
        create_dir(&work)?;
        let arch = self
            .target_arch
            .clone()
            .or_else(|| std::env::var("CARGO_CFG_TARGET_ARCH").ok())
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let big_endian = std::env::var("CARGO_CFG_TARGET_ENDIAN")
            .map(|e| e == "big")
            .unwrap_or(cfg!(target_endian = "big"));
        if self.cargo_directives {
            println!("cargo:rerun-if-env-changed=CLANG");
        }

        let mut output = Output::default();
        if self.cargo_directives {
            println!("cargo:rerun-if-env-changed={BTF_ENV}");
        }
        let btf_path = self
            .btf
            .clone()
            .or_else(|| std::env::var_os(BTF_ENV).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(KERNEL_BTF));
        let cross_without_btf = arch != std::env::consts::ARCH && btf_path == Path::new(KERNEL_BTF);
        let mut include_dirs = self.include_dirs.clone();
        if self.vmlinux_header || !self.kernel_types.is_empty() {
            output.inputs.push(btf_path.clone());
        }
        if self.vmlinux_header {
            let include = work.join("include");
            create_dir(&include)?;
            let header = include.join("vmlinux.h");
            write_vmlinux_header(&btf_path, &header, shared_cache(&out_dir).as_deref())?;
            include_dirs.push(include);
            output.vmlinux_header = Some(header);
        }
        if !self.kernel_types.is_empty() {
            let path = out_dir.join("vmlinux.rs");
            write_kernel_types(&btf_path, &self.kernel_types, &self.zerocopy, &path)?;
            output.kernel_types = Some(path);
        }

        let clang = if self.sources.is_empty() {
            None
        } else {
            Some(clang::find_clang()?)
        };
        for source in &self.sources {
            let clang = clang.as_deref().unwrap_or(Path::new("clang"));
            let name = source.name();
            let object = out_dir.join(format!("{name}.bpf.o"));
            let depfile = work.join(format!("{name}.d"));
            let compile = clang::Compile {
                clang,
                source: &source.path,
                output: &object,
                depfile: &depfile,
                rust_arch: &arch,
                big_endian,
                include_dirs: &include_dirs,
                defines: &self.defines,
                extra_args: &self.clang_args,
            };
            let compiled = compile.run().map_err(|e| match e {
                Error::Compile {
                    source_file,
                    stderr,
                    hint: None,
                } if cross_without_btf => Error::Compile {
                    source_file,
                    stderr,
                    hint: Some(
                        "this is a cross build against the running kernel's BTF, whose \
                         architecture-specific types (struct pt_regs, user_pt_regs) are not the \
                         target's: give the target kernel's BTF with Builder::btf_file or \
                         BPF_BUILD_BTF",
                    ),
                },
                other => other,
            })?;
            self.warn(&compiled.warnings);
            output.warnings.extend(
                compiled
                    .warnings
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned),
            );
            let deps = std::fs::read_to_string(&depfile).map_err(|e| io(&depfile, e))?;
            output.inputs.push(source.path.clone());
            for dep in clang::parse_depfile(&deps) {
                if !dep.starts_with(&work) && !output.inputs.contains(&dep) {
                    output.inputs.push(dep);
                }
            }

            let types_object = if source.types.is_empty() {
                None
            } else {
                Some(self.compile_types_object(
                    clang,
                    source,
                    &work,
                    &arch,
                    big_endian,
                    &include_dirs,
                )?)
            };
            let object_bytes = std::fs::read(&object).map_err(|e| io(&object, e))?;
            let types_bytes = match &types_object {
                Some(path) => Some(std::fs::read(path).map_err(|e| io(path, e))?),
                None => None,
            };
            let object_path = object.to_string_lossy().into_owned();
            let code = skeleton::generate(&skeleton::SkeletonInput {
                name: &name,
                object: &object_bytes,
                object_path: &object_path,
                types_object: types_bytes.as_deref(),
                extra_types: &source.types,
                zerocopy: &self.zerocopy,
            })
            .map_err(|reason| Error::Skeleton {
                object: name.clone(),
                reason,
            })?;
            let skeleton = out_dir.join(format!("{name}.skel.rs"));
            write_if_changed(&skeleton, code.as_bytes())?;
            output.objects.push(BuiltObject {
                name,
                object,
                skeleton,
            });
        }
        if self.cargo_directives {
            for input in &output.inputs {
                println!("cargo:rerun-if-changed={}", input.display());
            }
        }
        Ok(output)
    }

    /// The source compiled again with one variable per named type, so clang emits their BTF.
    fn compile_types_object(
        &self,
        clang: &Path,
        source: &Source,
        work: &Path,
        arch: &str,
        big_endian: bool,
        include_dirs: &[PathBuf],
    ) -> Result<PathBuf, Error> {
        let name = source.name();
        let absolute = std::path::absolute(&source.path).map_err(|e| io(&source.path, e))?;
        let mut text = format!("#include {:?}\n\n", absolute.to_string_lossy());
        for (index, c_type) in source.types.iter().enumerate() {
            text.push_str(&format!(
                "{c_type} {}{index} __attribute__((used));\n",
                skeleton::ANCHOR_PREFIX
            ));
        }
        let anchors = work.join(format!("{name}.types.c"));
        write_if_changed(&anchors, text.as_bytes())?;
        let output = work.join(format!("{name}.types.o"));
        let depfile = work.join(format!("{name}.types.d"));
        clang::Compile {
            clang,
            source: &anchors,
            output: &output,
            depfile: &depfile,
            rust_arch: arch,
            big_endian,
            include_dirs,
            defines: &self.defines,
            extra_args: &self.clang_args,
        }
        .run()?;
        Ok(output)
    }

    fn warn(&self, text: &str) {
        if !self.cargo_directives {
            return;
        }
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            println!("cargo:warning={line}");
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))
}

/// Writes `bytes` unless the file already holds them (keeping its mtime for cargo and clang).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|e| io(path, e))
}

/// Reads BTF from a raw BTF file or an ELF's `.BTF` section.
fn read_btf(path: &Path) -> Result<bpf_core::btf::Btf, Error> {
    let data = std::fs::read(path).map_err(|e| io(path, e))?;
    bpf_core::btf::Btf::parse_file_contents(data).map_err(|e| Error::Btf {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Writes `vmlinux.h` for the BTF at `btf_path`, unless the header there was written from the
/// same BTF (its key file says so). Headers are written once per BTF for every crate of a build:
/// kept in `cache` (under the target folder), copied from there.
fn write_vmlinux_header(btf_path: &Path, header: &Path, cache: Option<&Path>) -> Result<(), Error> {
    let btf_bytes = std::fs::read(btf_path).map_err(|e| io(btf_path, e))?;
    let fingerprint = format!("{}-{:016x}", btf_bytes.len(), fingerprint(&btf_bytes));
    let key_path = header.with_extension("h.source");
    if header.exists() && std::fs::read_to_string(&key_path).is_ok_and(|k| k == fingerprint) {
        return Ok(());
    }
    let cached = cache.map(|dir| dir.join(format!("vmlinux-{fingerprint}.h")));
    let text = match cached.as_deref().and_then(|path| std::fs::read(path).ok()) {
        Some(text) => text,
        None => {
            let text = btfgen::c_header(btf_bytes).map_err(|reason| Error::Btf {
                path: btf_path.to_owned(),
                reason,
            })?;
            if let (Some(dir), Some(path)) = (cache, &cached) {
                // Build scripts run in parallel: write aside, then rename into place.
                let partial = dir.join(format!("vmlinux-{fingerprint}.h.{}", std::process::id()));
                if std::fs::create_dir_all(dir).is_ok() && std::fs::write(&partial, &text).is_ok() {
                    let _ = std::fs::rename(&partial, path);
                }
            }
            text.into_bytes()
        }
    };
    write_if_changed(header, &text)?;
    std::fs::write(&key_path, fingerprint).map_err(|e| io(&key_path, e))
}

/// `<target>/[<triple>/]<profile>/bpf-build-cache` for an `OUT_DIR` laid out by cargo
/// (`.../<profile>/build/<package>-<hash>/out`); `None` for another layout.
fn shared_cache(out_dir: &Path) -> Option<PathBuf> {
    let build = out_dir.parent()?.parent()?;
    if build.file_name()? != "build" {
        return None;
    }
    Some(build.parent()?.join("bpf-build-cache"))
}

/// FNV-1a: a stable fingerprint of the BTF a header was written from.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn write_kernel_types(
    btf_path: &Path,
    names: &[String],
    zerocopy: &str,
    path: &Path,
) -> Result<(), Error> {
    let btf = read_btf(btf_path)?;
    let mut types = btfgen::RustTypes::new(&btf, zerocopy);
    for name in names {
        types.named(name).map_err(|reason| Error::Types {
            reason: format!("kernel type `{name}`: {reason}"),
        })?;
    }
    let code = types.code().map_err(|reason| Error::Types { reason })?;
    let text = format!(
        "// Generated by bpf-build from {}: do not edit.\n\n\
         /// Kernel types, `#[repr(C)]` with their size and field offsets checked at compile time.\n\
         #[allow(dead_code, non_camel_case_types, non_snake_case, clippy::all)]\n\
         pub mod vmlinux {{\n{code}}}\n",
        btf_path.display()
    );
    write_if_changed(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_beside_the_build_folder() {
        assert_eq!(
            shared_cache(Path::new("/w/target/debug/build/demo-0123/out")),
            Some(PathBuf::from("/w/target/debug/bpf-build-cache"))
        );
        assert_eq!(
            shared_cache(Path::new(
                "/w/target/aarch64-unknown-linux-gnu/release/build/x-1/out"
            )),
            Some(PathBuf::from(
                "/w/target/aarch64-unknown-linux-gnu/release/bpf-build-cache"
            ))
        );
        assert_eq!(shared_cache(Path::new("/tmp/out")), None);
    }

    #[test]
    fn source_names() {
        assert_eq!(Source::new("src/bpf/exec.bpf.c").name(), "exec");
        assert_eq!(Source::new("probe.c").name(), "probe");
    }
}
