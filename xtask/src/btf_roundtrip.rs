//! `cargo xtask btf-roundtrip [--kernel VMLINUZ]... [--module KO]...`: proves bpf-core's BTF → C
//! writer on real kernels. For each kernel's BTF (this machine's, and each `--kernel`'s, read
//! from the `.BTF` section of its unpacked vmlinux) it writes the header, compiles it with clang
//! (`-g -target bpf`, one global per named type so clang emits them all), and compares the BTF
//! clang produced with the source: every named struct, union, enum and typedef must have the
//! same kind, size, members (names, bit offsets, bitfield widths, types) and enumerators. Where
//! bpftool is installed, its header of the same BTF is compared line by line too, and every C
//! program of the project (`build-bpf`'s) is compiled against both headers: the objects must be
//! byte-identical but for their DWARF (`.debug_*`, which records header line numbers; loaders
//! read code, maps, `.BTF` and `.BTF.ext`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use bpf_core::btf::{Btf, CHeaderOptions, CWriter, RustTypes, RustTypesOptions, TypeKind};

/// Kernel types tools commonly read, generated as Rust and compiled for each kernel.
const KERNEL_TYPES: &[&str] = &[
    "task_struct",
    "mm_struct",
    "cred",
    "file",
    "inode",
    "dentry",
    "super_block",
    "linux_binprm",
    "sock",
    "tcp_sock",
    "sk_buff",
    "net_device",
    "cgroup",
    "bpf_prog",
    "bpf_map",
    "pt_regs",
    "trace_event_raw_sched_switch",
    "trace_event_raw_sys_enter",
    "xdp_md",
    "__sk_buff",
    "bpf_sock",
    "iphdr",
    "ipv6hdr",
    "tcphdr",
    "udphdr",
    "ethhdr",
    "page",
    "bio",
];

/// Generates Rust for [`KERNEL_TYPES`] and `cargo check`s it (its layout assertions are
/// evaluated there). Returns the number of generated items and of lines.
fn rust_check(btf: &Btf, dir: &Path) -> Result<(usize, usize), String> {
    let mut types = RustTypes::new(btf, RustTypesOptions::default());
    for name in KERNEL_TYPES {
        match types.add_by_name(name) {
            Ok(_) => {}
            // Not every kernel has every type.
            Err(bpf_core::btf::RustTypesError::NotFound(_)) => {
                println!("  ({name}: not in this BTF)")
            }
            Err(e) => return Err(format!("Rust for {name}: {e}")),
        }
    }
    let mut code = String::new();
    types.write(&mut code).map_err(|e| e.to_string())?;
    let krate = dir.join("rust-check");
    std::fs::create_dir_all(krate.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"kernel-types-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nzerocopy = { version = \"0.8\", features = [\"derive\"] }\n\n[workspace]\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(krate.join("src/lib.rs"), &code).map_err(|e| e.to_string())?;
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--quiet", "--message-format", "short"])
        .current_dir(&krate)
        // One target folder for every kernel's check: zerocopy is built once.
        .env(
            "CARGO_TARGET_DIR",
            dir.parent().unwrap_or(dir).join("rust-check-target"),
        )
        .output()
        .map_err(|e| format!("cargo check: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let head: Vec<&str> = stderr.lines().take(30).collect();
        return Err(format!(
            "the generated Rust ({}) does not compile:\n{}",
            krate.join("src/lib.rs").display(),
            head.join("\n")
        ));
    }
    let items = code.matches("\npub struct ").count() + code.matches("\npub type ").count();
    Ok((items, code.lines().count()))
}

const HOST_BTF: &str = "/sys/kernel/btf/vmlinux";

/// One kernel's BTF and where it came from.
struct Source {
    label: String,
    btf: Btf,
    /// A file bpftool can read the same BTF from (with `base` for split BTF).
    file: PathBuf,
    base_file: Option<PathBuf>,
}

/// The `.BTF` section of an ELF file (vmlinux or a module, `.ko.xz` too).
pub fn elf_btf_section(path: &Path) -> Result<Vec<u8>, String> {
    use object::{Object as _, ObjectSection as _};
    let data = if path.extension().is_some_and(|e| e == "xz") {
        let out = Command::new("xz")
            .arg("-dc")
            .arg(path)
            .output()
            .map_err(|e| format!("xz: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "xz -dc {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        out.stdout
    } else {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?
    };
    let elf = object::File::parse(&*data).map_err(|e| format!("{}: {e}", path.display()))?;
    let section = elf
        .section_by_name(".BTF")
        .ok_or_else(|| format!("{}: no .BTF section", path.display()))?;
    let bytes = section
        .data()
        .map_err(|e| format!("{}: .BTF: {e}", path.display()))?;
    Ok(bytes.to_vec())
}

fn kernel_source(vmlinuz: &Path, scratch: &Path) -> Result<Source, String> {
    let name = vmlinuz
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("kernel path has no file name")?;
    let release = name.trim_start_matches("vmlinuz-");
    let vmlinux = crate::vm_test::unpack_vmlinux(vmlinuz, release, scratch)?;
    let btf = Btf::parse_owned(elf_btf_section(&vmlinux)?, None)
        .map_err(|e| format!("{}: {e}", vmlinux.display()))?;
    Ok(Source {
        label: release.to_owned(),
        btf,
        file: vmlinux,
        base_file: None,
    })
}

fn module_source(module: &Path, base: &Source, scratch: &Path) -> Result<Source, String> {
    let base_btf = Btf::parse_owned(base.btf.to_bytes(), None).map_err(|e| e.to_string())?;
    let btf = Btf::parse_owned(elf_btf_section(module)?, Some(Arc::new(base_btf)))
        .map_err(|e| format!("{}: {e}", module.display()))?;
    let name = module
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("module.ko");
    // bpftool reads plain ELF: a compressed module is given to it as its raw split BTF.
    let file = if name.ends_with(".xz") {
        let raw = scratch.join(name.trim_end_matches(".xz").replace(".ko", ".btf"));
        std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
        std::fs::write(&raw, elf_btf_section(module)?).map_err(|e| e.to_string())?;
        raw
    } else {
        module.to_path_buf()
    };
    Ok(Source {
        label: format!("{name} (split, on {})", base.label),
        btf,
        file,
        base_file: Some(base.file.clone()),
    })
}

/// A C file declaring one pointer global per named type, so clang's BTF holds every type in
/// full, and the C name each source type id was written under.
fn probe_source(btf: &Btf, writer: &CWriter<'_>) -> (String, Vec<(u32, String)>) {
    let mut text = String::from("#include \"vmlinux.h\"\n\n");
    let mut roots = Vec::new();
    for id in 1..btf.end_id() {
        let Ok(t) = btf.type_by_id(id) else { continue };
        let keyword = match t.kind {
            TypeKind::Struct(_) => "struct ",
            TypeKind::Union(_) => "union ",
            TypeKind::Enum(_) | TypeKind::Enum64(_) => "enum ",
            TypeKind::Typedef { .. } => "",
            _ => continue,
        };
        let Some(name) = writer.c_name(id) else {
            continue;
        };
        if name == "__builtin_va_list" {
            continue;
        }
        text.push_str(&format!("{keyword}{name} *__roundtrip_{id};\n"));
        roots.push((id, name.to_owned()));
    }
    (text, roots)
}

fn compile(dir: &Path, source: &str) -> Result<Btf, String> {
    let c = dir.join("probe.c");
    let o = dir.join("probe.o");
    std::fs::write(&c, source).map_err(|e| format!("{}: {e}", c.display()))?;
    let out = Command::new(crate::build_bpf::CLANG)
        .args(["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-c"])
        .arg(&c)
        .arg("-o")
        .arg(&o)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("running {}: {e}", crate::build_bpf::CLANG))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let head: Vec<&str> = stderr.lines().take(40).collect();
        return Err(format!(
            "the written header does not compile:\n{}",
            head.join("\n")
        ));
    }
    Btf::parse_owned(elf_btf_section(&o)?, None).map_err(|e| format!("{}: {e}", o.display()))
}

/// Compares a source type graph with clang's, named types by their C names.
struct Comparison<'a> {
    source: &'a Btf,
    compiled: &'a Btf,
    /// Source id → the C name it was written under.
    c_names: &'a HashMap<u32, String>,
    mismatches: Vec<String>,
}

const MAX_DEPTH: usize = 64;

impl Comparison<'_> {
    fn kind_name(kind: &TypeKind<'_>) -> &'static str {
        match kind {
            TypeKind::Struct(_) => "struct",
            TypeKind::Union(_) => "union",
            TypeKind::Enum(_) | TypeKind::Enum64(_) => "enum",
            TypeKind::Typedef { .. } => "typedef",
            TypeKind::Fwd { is_union: true } => "union",
            TypeKind::Fwd { is_union: false } => "struct",
            _ => "other",
        }
    }

    /// Whether source type `s` and compiled type `c` are the same type. Named definitions are
    /// the same when their C names and kinds agree (each is compared in full on its own).
    fn same(&self, s: u32, c: u32, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("nesting too deep".into());
        }
        let st = self.source.type_by_id(s).map_err(|e| e.to_string())?;
        let ct = self.compiled.type_by_id(c).map_err(|e| e.to_string())?;
        let named_def = matches!(
            st.kind,
            TypeKind::Struct(_)
                | TypeKind::Union(_)
                | TypeKind::Enum(_)
                | TypeKind::Enum64(_)
                | TypeKind::Typedef { .. }
                | TypeKind::Fwd { .. }
        ) && !st.name.is_empty();
        if named_def {
            let want = self.c_names.get(&s).map(String::as_str).unwrap_or(st.name);
            if ct.name != want || Self::kind_name(&st.kind) != Self::kind_name(&ct.kind) {
                return Err(format!(
                    "{} {want} became {} {}",
                    Self::kind_name(&st.kind),
                    Self::kind_name(&ct.kind),
                    ct.name
                ));
            }
            return Ok(());
        }
        self.same_shape(s, c, depth)
    }

    /// Compares the contents of two types (not only their names).
    fn same_shape(&self, s: u32, c: u32, depth: usize) -> Result<(), String> {
        let st = self.source.type_by_id(s).map_err(|e| e.to_string())?;
        let ct = self.compiled.type_by_id(c).map_err(|e| e.to_string())?;
        match (st.kind, ct.kind) {
            (TypeKind::Void, TypeKind::Void) => Ok(()),
            (TypeKind::Int(a), TypeKind::Int(b)) => {
                // GCC spells `long unsigned int` what clang spells `unsigned long`, and marks
                // `char` unsigned where clang marks it signed (BPF's `char` is signed).
                let char_type = st.name == "char" && ct.name == "char";
                if a.size != b.size
                    || a.bits != b.bits
                    || (a.is_signed() != b.is_signed() && !char_type)
                {
                    return Err(format!("int {} became {}", st.name, ct.name));
                }
                Ok(())
            }
            (TypeKind::Float { size: a }, TypeKind::Float { size: b }) if a == b => Ok(()),
            (TypeKind::Ptr { target: a }, TypeKind::Ptr { target: b })
            | (TypeKind::Const { target: a }, TypeKind::Const { target: b })
            | (TypeKind::Volatile { target: a }, TypeKind::Volatile { target: b })
            | (TypeKind::Restrict { target: a }, TypeKind::Restrict { target: b })
            | (TypeKind::TypeTag { target: a }, TypeKind::TypeTag { target: b }) => {
                self.same(a, b, depth + 1).map_err(|e| format!("*{e}"))
            }
            (TypeKind::Typedef { target: a }, TypeKind::Typedef { target: b }) => {
                self.same(a, b, depth + 1)
            }
            (TypeKind::Array(a), TypeKind::Array(b)) => {
                if a.nelems != b.nelems {
                    return Err(format!("[{}] became [{}]", a.nelems, b.nelems));
                }
                self.same(a.elem, b.elem, depth + 1)
                    .map_err(|e| format!("[{}] {e}", a.nelems))
            }
            (TypeKind::Struct(a), TypeKind::Struct(b))
            | (TypeKind::Union(a), TypeKind::Union(b)) => {
                // The writer pads a union larger than its members with a last unnamed struct.
                let padded_union = matches!(st.kind, TypeKind::Union(_))
                    && b.len() == a.len() + 1
                    && b.member(a.len()).is_ok_and(|m| {
                        m.name.is_empty()
                            && matches!(
                                self.compiled.type_by_id(m.type_id).map(|t| t.kind),
                                Ok(TypeKind::Struct(p)) if p.is_empty()
                            )
                    });
                if a.size != b.size || (a.len() != b.len() && !padded_union) {
                    return Err(format!(
                        "size {} with {} members became size {} with {}",
                        a.size,
                        a.len(),
                        b.size,
                        b.len()
                    ));
                }
                for (ma, mb) in a.members().zip(b.members()) {
                    let (ma, mb) = (
                        ma.map_err(|e| e.to_string())?,
                        mb.map_err(|e| e.to_string())?,
                    );
                    if ma.name != mb.name
                        || ma.bit_offset != mb.bit_offset
                        || ma.bitfield_size != mb.bitfield_size
                    {
                        return Err(format!(
                            "member {} at bit {} (width {}) became {} at bit {} (width {})",
                            ma.name,
                            ma.bit_offset,
                            ma.bitfield_size,
                            mb.name,
                            mb.bit_offset,
                            mb.bitfield_size
                        ));
                    }
                    self.same(ma.type_id, mb.type_id, depth + 1)
                        .map_err(|e| format!(".{}: {e}", ma.name))?;
                }
                Ok(())
            }
            // An enum without enumerators is only declared (`enum x;`): C gives it no size.
            (TypeKind::Enum(a) | TypeKind::Enum64(a), TypeKind::Enum(b) | TypeKind::Enum64(b))
                if a.is_empty() && b.is_empty() =>
            {
                Ok(())
            }
            (TypeKind::Enum(a) | TypeKind::Enum64(a), TypeKind::Enum(b) | TypeKind::Enum64(b)) => {
                if a.size != b.size || a.len() != b.len() {
                    return Err(format!(
                        "enum of size {} with {} values became size {} with {}",
                        a.size,
                        a.len(),
                        b.size,
                        b.len()
                    ));
                }
                let bits = u64::MAX >> (64 - 8 * a.size.clamp(1, 8));
                for (va, vb) in a.values().zip(b.values()) {
                    let (va, vb) = (
                        va.map_err(|e| e.to_string())?,
                        vb.map_err(|e| e.to_string())?,
                    );
                    // A renamed duplicate enumerator carries a `___N` suffix.
                    let renamed = vb
                        .name
                        .strip_prefix(va.name)
                        .is_some_and(|rest| rest.starts_with("___"));
                    if (va.name != vb.name && !renamed) || va.value & bits != vb.value & bits {
                        return Err(format!(
                            "enumerator {} = {} became {} = {}",
                            va.name, va.value, vb.name, vb.value
                        ));
                    }
                }
                Ok(())
            }
            (TypeKind::FuncProto(a), TypeKind::FuncProto(b)) => {
                self.same(a.ret, b.ret, depth + 1)
                    .map_err(|e| format!("return: {e}"))?;
                // clang writes `(void)` as no parameters; BTF may hold one `void` parameter.
                let params = |p: bpf_core::btf::FuncProto<'_>| -> Result<Vec<u32>, String> {
                    let ids: Vec<u32> = p
                        .params()
                        .map(|q| q.map(|q| q.type_id).map_err(|e| e.to_string()))
                        .collect::<Result<_, _>>()?;
                    Ok(if ids == [0] { Vec::new() } else { ids })
                };
                let (pa, pb) = (params(a)?, params(b)?);
                if pa.len() != pb.len() {
                    return Err(format!("{} parameters became {}", pa.len(), pb.len()));
                }
                for (i, (x, y)) in pa.into_iter().zip(pb).enumerate() {
                    self.same(x, y, depth + 1)
                        .map_err(|e| format!("parameter {i}: {e}"))?;
                }
                Ok(())
            }
            // clang drops `const` on an anonymous struct member (`const struct { ... };`).
            (TypeKind::Const { target } | TypeKind::Volatile { target }, _)
                if self.source.type_name(target).is_ok_and(str::is_empty) =>
            {
                self.same(target, c, depth + 1)
            }
            (a, b) => Err(format!("{:?} became {:?}", a.kind(), b.kind())),
        }
    }
}

/// Finds the compiled type a C name and kind denote.
fn compiled_index(compiled: &Btf) -> HashMap<(&'static str, String), u32> {
    let mut index = HashMap::new();
    for id in 1..compiled.end_id() {
        let Ok(t) = compiled.type_by_id(id) else {
            continue;
        };
        if t.name.is_empty() || matches!(t.kind, TypeKind::Fwd { .. }) {
            continue;
        }
        index
            .entry((Comparison::kind_name(&t.kind), t.name.to_owned()))
            .or_insert(id);
    }
    index
}

struct Figures {
    compared: HashMap<&'static str, usize>,
    mismatches: Vec<String>,
    bpftool_diff: Option<usize>,
    programs: Option<ProgramFigures>,
    /// Generated Rust items and lines for the kernel types, compiled.
    rust: Option<(usize, usize)>,
}

/// The project's C programs compiled against two headers of the same BTF: how many objects
/// came out byte-identical, and which did not (or did not compile).
struct ProgramFigures {
    /// Objects compiled: tests/bpf's and the example crates' (the demo's among them).
    objects: usize,
    examples: usize,
    identical: usize,
    /// Same code, maps, relocations and types, the BTF's type ids in another order.
    renumbered: Vec<String>,
    /// Arena programs: ours declares arena kfuncs' pointers in address space 1.
    arena: Vec<String>,
    different: Vec<String>,
    /// The objects that are not byte-identical, loaded into this kernel from both builds:
    /// programs with the same translated code, programs refused the same way by both.
    loaded_same: usize,
    refused_same: usize,
    load_different: Vec<String>,
}

/// How two objects of the same source, built against two headers, relate.
enum Equivalence {
    /// Every section but `.BTF` byte-identical; the BTF the same types (written as a sorted C
    /// header: the same text) with the ids in another order, `.BTF.ext` of the same size.
    /// clang numbers forward declarations in an order that shifts with unrelated declarations.
    Renumbered,
    /// An arena program: ours declares the arena kfuncs' pointers in address space 1 (bpftool 7.5
    /// writes a mere `btf_type_tag`), so the code casts them less; the BTF is the same.
    ArenaAddressSpace,
    Different(String),
}

fn btf_as_c(data: &[u8]) -> Result<String, String> {
    let btf = Btf::parse(data).map_err(|e| e.to_string())?;
    let mut text = String::new();
    bpf_core::btf::write_c_header(&btf, &mut text, &CHeaderOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(text)
}

fn equivalence(a: &[u8], b: &[u8]) -> Result<Equivalence, String> {
    use object::{Object as _, ObjectSection as _};
    let fa = object::File::parse(a).map_err(|e| e.to_string())?;
    let fb = object::File::parse(b).map_err(|e| e.to_string())?;
    let sections = |f: &object::File<'_>| -> Vec<(String, Vec<u8>)> {
        f.sections()
            .map(|s| {
                (
                    s.name().unwrap_or("?").to_owned(),
                    s.data().unwrap_or_default().to_vec(),
                )
            })
            .collect()
    };
    let (sa, sb) = (sections(&fa), sections(&fb));
    if sa.len() != sb.len() || sa.iter().zip(&sb).any(|(x, y)| x.0 != y.0) {
        return Ok(Equivalence::Different("different sections".into()));
    }
    let mut code_differs = None;
    let mut btf_lines = Vec::new();
    for ((name, da), (_, db)) in sa.iter().zip(&sb) {
        match name.as_str() {
            ".BTF" => {
                let (ha, hb) = (btf_as_c(da)?, btf_as_c(db)?);
                let (mut la, mut lb): (Vec<&str>, Vec<&str>) =
                    (ha.lines().collect(), hb.lines().collect());
                la.sort_unstable();
                lb.sort_unstable();
                btf_lines = la
                    .iter()
                    .filter(|l| lb.binary_search(l).is_err())
                    .chain(lb.iter().filter(|l| la.binary_search(l).is_err()))
                    .map(|l| l.to_string())
                    .collect();
            }
            ".BTF.ext" | ".rel.BTF" | ".rel.BTF.ext" if da.len() != db.len() => {
                code_differs.get_or_insert(format!("{name} sizes differ"));
            }
            ".BTF.ext" | ".rel.BTF" | ".rel.BTF.ext" => {}
            _ if da != db => {
                code_differs.get_or_insert(format!("section {name} differs"));
            }
            _ => {}
        }
    }
    // Arena kfuncs return and take `__arena` pointers: with the attribute, no cast is needed.
    let calls_arena_kfunc = {
        use object::ObjectSymbol as _;
        fb.symbols()
            .any(|sym| sym.is_undefined() && sym.name().is_ok_and(|n| n.starts_with("bpf_arena_")))
    };
    Ok(match (code_differs, btf_lines.first()) {
        (None, None) => Equivalence::Renumbered,
        (Some(_), None) if calls_arena_kfunc => Equivalence::ArenaAddressSpace,
        (_, Some(line)) => Equivalence::Different(format!("BTF types differ: {line:?}")),
        (Some(e), None) => Equivalence::Different(e),
    })
}

/// An object without its DWARF sections (`.debug_*`): what a loader reads (code, maps, BTF,
/// relocations). The DWARF records header line numbers, which differ between two headers.
fn without_dwarf(object: &Path) -> Result<Vec<u8>, String> {
    let stripped = object.with_extension("nodebug.o");
    let out = Command::new("llvm-objcopy-19")
        .arg("--strip-debug")
        .arg(object)
        .arg(&stripped)
        .output()
        .map_err(|e| format!("llvm-objcopy-19 (install llvm-19): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "llvm-objcopy-19 --strip-debug {}: {}",
            object.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::read(&stripped).map_err(|e| format!("{}: {e}", stripped.display()))
}

fn compare_programs(ours: &str, bpftool: &str) -> Result<ProgramFigures, String> {
    use crate::build_bpf;
    let root = crate::workspace_root();
    let _lock = build_bpf::lock_stage()?;
    let stage = build_bpf::stage_sources(&root)?;
    let examples = build_bpf::stage_examples(&root, &stage)?;
    let mut headers = build_bpf::staged_headers(&stage);
    headers.extend(
        examples
            .iter()
            .map(|job| build_bpf::example_header(&stage, job)),
    );
    let mut jobs = build_bpf::jobs(&root);
    let example_count = examples.len();
    jobs.extend(examples);
    let mut outputs: Vec<Vec<Result<Vec<u8>, String>>> = Vec::new();
    for (label, header) in [("bpftool", bpftool), ("ours", ours)] {
        for staged in &headers {
            std::fs::write(staged, header).map_err(|e| format!("{}: {e}", staged.display()))?;
        }
        // Each clang runs alone on one core: one compiling thread per core.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let build = |job: &build_bpf::Job| {
            let output = stage.join(format!("out-{label}")).join(&job.output);
            build_bpf::compile(&stage, job, &output).and_then(|()| without_dwarf(&output))
        };
        let objects: Vec<Result<Vec<u8>, String>> = std::thread::scope(|scope| {
            let chunks: Vec<_> = jobs
                .chunks(jobs.len().div_ceil(threads).max(1))
                .map(|chunk| scope.spawn(move || chunk.iter().map(build).collect::<Vec<_>>()))
                .collect();
            chunks
                .into_iter()
                .flat_map(|handle| handle.join().expect("a compiling thread panicked"))
                .collect()
        });
        outputs.push(objects);
    }
    let _ = std::fs::remove_dir_all(&stage);
    let mut figures = ProgramFigures {
        objects: jobs.len(),
        examples: example_count,
        identical: 0,
        renumbered: Vec::new(),
        arena: Vec::new(),
        different: Vec::new(),
        loaded_same: 0,
        refused_same: 0,
        load_different: Vec::new(),
    };
    for (job, (theirs, ours)) in jobs.iter().zip(outputs[0].iter().zip(&outputs[1])) {
        let name = job.output.display();
        match (theirs, ours) {
            (Ok(a), Ok(b)) if a == b => figures.identical += 1,
            (Ok(a), Ok(b)) => {
                match equivalence(a, b)? {
                    Equivalence::Renumbered => figures.renumbered.push(name.to_string()),
                    Equivalence::ArenaAddressSpace => figures.arena.push(name.to_string()),
                    Equivalence::Different(e) => figures.different.push(format!("{name}: {e}")),
                }
                let loads = crate::load_compare::compare(a, b);
                figures.loaded_same += loads.loaded;
                figures.refused_same += loads.refused;
                figures
                    .load_different
                    .extend(loads.different.iter().map(|d| format!("{name}: {d}")));
            }
            (Err(_), Err(_)) => figures
                .different
                .push(format!("{name}: compiles with neither header")),
            (Ok(_), Err(e)) => figures
                .different
                .push(format!("{name}: fails with ours: {e}")),
            (Err(_), Ok(_)) => figures
                .different
                .push(format!("{name}: fails with bpftool's only")),
        }
    }
    Ok(figures)
}

fn round_trip(
    source: &Source,
    scratch: &Path,
    full_kernel: bool,
    programs: bool,
) -> Result<Figures, String> {
    let options = CHeaderOptions::default();
    let mut header = String::new();
    let mut writer = CWriter::new(&source.btf).map_err(|e| e.to_string())?;
    writer
        .write_header(&mut header, &options)
        .map_err(|e| e.to_string())?;
    let dir = scratch.join(source.label.replace(['/', ' ', '(', ')', ','], "_"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("vmlinux.h"), &header).map_err(|e| e.to_string())?;
    let (probe, roots) = probe_source(&source.btf, &writer);
    let compiled = compile(&dir, &probe)?;
    let c_names: HashMap<u32, String> = roots.iter().cloned().collect();
    let index = compiled_index(&compiled);
    let mut comparison = Comparison {
        source: &source.btf,
        compiled: &compiled,
        c_names: &c_names,
        mismatches: Vec::new(),
    };
    let mut compared: HashMap<&'static str, usize> = HashMap::new();
    for (id, name) in &roots {
        let t = source.btf.type_by_id(*id).map_err(|e| e.to_string())?;
        let kind = Comparison::kind_name(&t.kind);
        let Some(&cid) = index.get(&(kind, name.clone())) else {
            comparison
                .mismatches
                .push(format!("{kind} {name}: missing from clang's BTF"));
            continue;
        };
        *compared.entry(kind).or_default() += 1;
        if let Err(e) = comparison.same_shape(*id, cid, 0) {
            comparison.mismatches.push(format!("{kind} {name}: {e}"));
        }
    }
    let bpftool = bpftool_header(source);
    if let Some(theirs) = &bpftool {
        let _ = std::fs::write(dir.join("bpftool.h"), theirs);
    }
    let bpftool_diff = bpftool
        .as_deref()
        .map(|theirs| lines_differing(&header, theirs));
    let rust = if full_kernel {
        Some(rust_check(&source.btf, &dir)?)
    } else {
        None
    };
    let programs = match (&bpftool, programs) {
        (Some(theirs), true) => Some(compare_programs(&header, theirs)?),
        _ => None,
    };
    Ok(Figures {
        compared,
        mismatches: comparison.mismatches,
        bpftool_diff,
        programs,
        rust,
    })
}

/// bpftool's header of the same BTF, when bpftool is installed.
fn bpftool_header(source: &Source) -> Option<String> {
    let mut cmd = Command::new("bpftool");
    cmd.args(["btf", "dump", "file"]).arg(&source.file);
    if let Some(base) = &source.base_file {
        cmd.arg("-B").arg(base);
    }
    let out = cmd.args(["format", "c"]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Lines in one header but not the other (as multisets).
fn lines_differing(ours: &str, theirs: &str) -> usize {
    let mut a: Vec<&str> = ours.lines().collect();
    let mut b: Vec<&str> = theirs.lines().collect();
    a.sort_unstable();
    b.sort_unstable();
    // Lines in one sorted list but not the other.
    let (mut i, mut j, mut diff) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(b[j]) {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                diff += 1;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                diff += 1;
                j += 1;
            }
        }
    }
    diff + (a.len() - i) + (b.len() - j)
}

fn print_programs(programs: &ProgramFigures) {
    println!(
        "  the project's C programs against bpftool's header and ours ({} objects, {} of them \
         the examples' with the demo): {} objects identical but for DWARF, {} the same but for \
         the order of BTF ids, {} arena programs with arena kfunc pointers in address space 1 \
         (as newer bpftool writes them), {} different",
        programs.objects,
        programs.examples,
        programs.identical,
        programs.renumbered.len(),
        programs.arena.len(),
        programs.different.len()
    );
    for r in &programs.renumbered {
        println!("  program, BTF renumbered: {r}");
    }
    for r in &programs.arena {
        println!("  program, arena address space: {r}");
    }
    for d in &programs.different {
        println!("  program: {d}");
    }
    println!(
        "  the {} objects not byte-identical loaded into this kernel from both builds: {} \
         programs with the same translated code, {} refused the same way by both, {} loading \
         differently",
        programs.renumbered.len() + programs.arena.len(),
        programs.loaded_same,
        programs.refused_same,
        programs.load_different.len()
    );
    for d in &programs.load_different {
        println!("  program loads differently: {d}");
    }
}

/// Only the comparison of the project's programs built against the two headers of this
/// machine's BTF.
fn only_programs() -> Result<(), String> {
    let btf = crate::vmlinux_h::read_btf(Path::new(HOST_BTF), None)?;
    let mut ours = String::new();
    bpf_core::btf::write_c_header(&btf, &mut ours, &CHeaderOptions::default())
        .map_err(|e| e.to_string())?;
    let source = Source {
        label: "this kernel".into(),
        btf,
        file: PathBuf::from(HOST_BTF),
        base_file: None,
    };
    let theirs =
        bpftool_header(&source).ok_or("bpftool btf dump failed (is bpftool installed?)")?;
    let programs = compare_programs(&ours, &theirs)?;
    print_programs(&programs);
    if programs.different.is_empty() && programs.load_different.is_empty() && programs.identical > 0
    {
        Ok(())
    } else {
        Err("objects differ".into())
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask btf-roundtrip [--no-host] [--kernel VMLINUZ [--module KO]...]...\n\
                 (a module's base is the kernel named before it, else this machine's)\n       \
                 cargo xtask btf-roundtrip --only-programs";
    let root = crate::workspace_root();
    let scratch = root.join("target").join("btf-roundtrip");
    let mut sources = Vec::new();
    if args.first().is_some_and(|a| a == "--only-programs") {
        return only_programs();
    }
    let mut args = args.iter().peekable();
    if args.peek().is_some_and(|a| *a == "--no-host") {
        args.next();
    } else {
        let path = PathBuf::from(HOST_BTF);
        let btf = crate::vmlinux_h::read_btf(&path, None)?;
        sources.push(Source {
            label: "this kernel".into(),
            btf,
            file: path,
            base_file: None,
        });
    }
    while let Some(arg) = args.next() {
        let path = PathBuf::from(args.next().ok_or(usage)?);
        match arg.as_str() {
            "--kernel" => sources.push(kernel_source(&path, &scratch)?),
            "--module" => {
                let base = sources
                    .iter()
                    .rfind(|s| s.base_file.is_none())
                    .ok_or("--module needs a kernel before it")?;
                let source = module_source(&path, base, &scratch)?;
                sources.push(source);
            }
            _ => return Err(usage.into()),
        }
    }
    let mut failed = false;
    for source in &sources {
        let started = std::time::Instant::now();
        // The project's programs are written for this machine's kernel: compiled against its
        // two headers only.
        let full_kernel = source.base_file.is_none();
        let programs = full_kernel && source.file == Path::new(HOST_BTF);
        let figures = match round_trip(source, &scratch, full_kernel, programs) {
            Ok(result) => result,
            Err(e) => {
                println!("{}: {e}", source.label);
                failed = true;
                continue;
            }
        };
        let mut kinds: Vec<_> = figures.compared.iter().collect();
        kinds.sort();
        let total: usize = figures.compared.values().sum();
        println!(
            "{}: {} types compared ({}), {} mismatches, {:.1} s",
            source.label,
            total,
            kinds
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            figures.mismatches.len(),
            started.elapsed().as_secs_f64()
        );
        for m in figures.mismatches.iter().take(20) {
            println!("  mismatch: {m}");
        }
        let listing = scratch.join("mismatches.txt");
        let _ = std::fs::write(&listing, figures.mismatches.join("\n"));
        match figures.bpftool_diff {
            Some(n) => println!("  bpftool's header of the same BTF: {n} lines differ"),
            None => println!("  (bpftool not run)"),
        }
        failed |= !figures.mismatches.is_empty() || total == 0;
        if let Some((items, lines)) = figures.rust {
            println!(
                "  Rust for {} kernel types (task_struct, sk_buff, ...): {items} items, {lines} lines, compiled with their layout assertions",
                KERNEL_TYPES.len()
            );
        }
        if let Some(programs) = &figures.programs {
            print_programs(programs);
            failed |= !programs.different.is_empty()
                || !programs.load_different.is_empty()
                || programs.identical == 0;
        }
    }
    if failed {
        Err("the written headers do not round-trip".into())
    } else {
        Ok(())
    }
}
