//! `btf list|dump`: BTF objects in the kernel, and BTF read from files.

use std::fmt::Write;

use bpf_core::btf::value::type_name;
use bpf_core::btf::{
    Btf, BtfKind, CHeaderOptions, CWriter, RustTypes, RustTypesOptions, TypeKind, write_c_header,
};
use bpf_programs::btf::{BtfInfo, btf_by_id, loaded_btfs};
use bpf_programs::maps::loaded_maps;
use bpf_programs::programs::loaded_programs;
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::table::Table;
use crate::{CliError, Context, Output};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per type record, as bpftool's raw format.
    Raw,
    /// C declarations.
    C,
    /// Rust type definitions.
    Rust,
}

#[derive(Debug, Subcommand)]
pub enum BtfCommand {
    /// Every BTF object, with the programs and maps using it.
    List,
    /// The types of a BTF object (by id: a program's or map's `btf_id`, a module's) or of a
    /// file (raw BTF such as `/sys/kernel/btf/vmlinux`, or an ELF object's .BTF).
    Dump {
        source: String,
        #[arg(long, value_enum, default_value = "raw")]
        format: Format,
        /// With `--format c|rust`: only this struct, union, enum or typedef and what it needs
        /// (repeatable); without, every type (`--format c` is then a whole `vmlinux.h`).
        #[arg(long = "type", value_name = "NAME")]
        types: Vec<String>,
    },
}

pub fn run(command: BtfCommand, out: &Output) -> Result<(), CliError> {
    match command {
        BtfCommand::List => list(out),
        BtfCommand::Dump {
            source,
            format,
            types,
        } => match format {
            Format::Raw if !types.is_empty() => Err(CliError::msg(format!(
                "btf dump {source}: --type needs --format c or rust"
            ))),
            Format::Raw => dump(&source, out),
            Format::C => dump_code(&source, &types, Language::C, out),
            Format::Rust => dump_code(&source, &types, Language::Rust, out),
        },
    }
}

fn list(out: &Output) -> Result<(), CliError> {
    let mut objects: Vec<BtfInfo> = Vec::new();
    for object in loaded_btfs() {
        objects.push(object.context(|| "listing BTF objects".to_owned())?);
    }
    let mut users: std::collections::BTreeMap<u32, (Vec<u32>, Vec<u32>)> = Default::default();
    for p in loaded_programs().flatten() {
        if let Some(b) = p.btf_id() {
            users.entry(b).or_default().0.push(p.id());
        }
    }
    for m in loaded_maps().flatten() {
        if m.btf_id() != 0 {
            users.entry(m.btf_id()).or_default().1.push(m.id());
        }
    }
    let empty = (Vec::new(), Vec::new());
    let value = Value::Array(
        objects
            .iter()
            .map(|o| {
                let (progs, maps) = users.get(&o.id()).unwrap_or(&empty);
                json!({"id": o.id(), "name": o.name(), "size": o.size(), "kernel": o.is_kernel(),
                       "prog_ids": progs, "map_ids": maps})
            })
            .collect(),
    );
    out.emit(&value, || {
        let mut t = Table::new(&["ID", "NAME", "SIZE", "KERNEL", "PROGS", "MAPS"]);
        for o in &objects {
            let (progs, maps) = users.get(&o.id()).unwrap_or(&empty);
            t.row(vec![
                o.id().to_string(),
                if o.name().is_empty() {
                    "-".into()
                } else {
                    o.name().to_owned()
                },
                o.size().to_string(),
                o.is_kernel().to_string(),
                crate::prog::join_ids(progs),
                crate::prog::join_ids(maps),
            ]);
        }
        t.render()
    });
    Ok(())
}

fn load(source: &str) -> Result<Btf, CliError> {
    if let Ok(id) = source.parse::<u32>() {
        return btf_by_id(id).context(|| format!("BTF object {id}"));
    }
    let bytes = std::fs::read(source).context(|| format!("BTF file {source}"))?;
    if bytes.starts_with(b"\x7fELF") {
        let object =
            bpf_core::obj::Object::parse(&bytes).context(|| format!("BTF of object {source}"))?;
        return object
            .btf
            .ok_or_else(|| CliError::msg(format!("object {source} has no .BTF section")));
    }
    // Split BTF (a module's) needs vmlinux's as its base.
    match Btf::parse(&bytes) {
        Ok(btf) => Ok(btf),
        Err(_) if source.starts_with("/sys/kernel/btf/") && source != "/sys/kernel/btf/vmlinux" => {
            let base = bpf_programs::btf::read_btf_file("/sys/kernel/btf/vmlinux")
                .context(|| "vmlinux BTF, the base of module BTF".to_owned())?;
            Btf::parse_split(&bytes, std::sync::Arc::new(base))
                .context(|| format!("BTF file {source}"))
        }
        Err(e) => Err(e).context(|| format!("BTF file {source}")),
    }
}

/// One type record in bpftool's raw notation: `[3] STRUCT 'event' size=16 vlen=2`.
fn raw_line(btf: &Btf, id: u32, out: &mut String) {
    let Ok(t) = btf.type_by_id(id) else {
        let _ = writeln!(out, "[{id}] <unreadable>");
        return;
    };
    let name = if t.name.is_empty() { "(anon)" } else { t.name };
    let kind = format!("{:?}", t.kind.kind()).to_uppercase();
    let _ = write!(out, "[{id}] {kind} '{name}'");
    match t.kind {
        TypeKind::Int(i) => {
            let enc = match (i.is_signed(), i.encoding) {
                (_, e) if e & 4 != 0 => "BOOL",
                (_, e) if e & 2 != 0 => "CHAR",
                (true, _) => "SIGNED",
                _ => "(none)",
            };
            let _ = write!(
                out,
                " size={} bits_offset={} nr_bits={} encoding={enc}",
                i.size, i.offset, i.bits
            );
        }
        TypeKind::Struct(c) | TypeKind::Union(c) => {
            let _ = write!(out, " size={} vlen={}", c.size, c.len());
            for m in c.members().flatten() {
                let n = if m.name.is_empty() { "(anon)" } else { m.name };
                let _ = write!(
                    out,
                    "\n\t'{n}' type_id={} bits_offset={}",
                    m.type_id, m.bit_offset
                );
                if m.bitfield_size > 0 {
                    let _ = write!(out, " bitfield_size={}", m.bitfield_size);
                }
            }
        }
        TypeKind::Enum(e) | TypeKind::Enum64(e) => {
            let _ = write!(out, " size={} vlen={}", e.size, e.len());
            for v in e.values().flatten() {
                let _ = write!(out, "\n\t'{}' val={}", v.name, v.value);
            }
        }
        TypeKind::Array(a) => {
            let _ = write!(
                out,
                " type_id={} index_type_id={} nr_elems={}",
                a.elem, a.index, a.nelems
            );
        }
        TypeKind::FuncProto(p) => {
            let _ = write!(out, " ret_type_id={} vlen={}", p.ret, p.len());
            for param in p.params().flatten() {
                let n = if param.name.is_empty() {
                    "(anon)"
                } else {
                    param.name
                };
                let _ = write!(out, "\n\t'{n}' type_id={}", param.type_id);
            }
        }
        TypeKind::Datasec(d) => {
            let _ = write!(out, " size={} vlen={}", d.size, d.len());
            for v in d.vars() {
                let _ = write!(
                    out,
                    "\n\ttype_id={} offset={} size={}",
                    v.type_id, v.offset, v.size
                );
            }
        }
        TypeKind::Float { size } => {
            let _ = write!(out, " size={size}");
        }
        TypeKind::Fwd { is_union } => {
            let _ = write!(
                out,
                " fwd_kind={}",
                if is_union { "union" } else { "struct" }
            );
        }
        TypeKind::Func { proto, linkage } => {
            let _ = write!(out, " type_id={proto} linkage={linkage:?}");
        }
        TypeKind::Var { target, linkage } => {
            let _ = write!(out, " type_id={target}, linkage={linkage:?}");
        }
        TypeKind::DeclTag {
            target,
            component_idx,
        } => {
            let _ = write!(out, " type_id={target} component_idx={component_idx}");
        }
        other => {
            if let Some(target) = other.target() {
                let _ = write!(out, " type_id={target}");
            }
        }
    }
    out.push('\n');
}

fn dump(source: &str, out: &Output) -> Result<(), CliError> {
    let btf = load(source)?;
    let mut text = String::new();
    let mut types = Vec::new();
    for id in btf.first_id()..btf.end_id() {
        raw_line(&btf, id, &mut text);
        {
            let t = btf.type_by_id(id).ok();
            types.push(json!({
                "id": id,
                "kind": t.map(|t| format!("{:?}", t.kind.kind()).to_uppercase()),
                "name": t.map(|t| t.name),
                "c": type_name(&btf, id),
            }));
        }
    }
    out.emit(&Value::Array(types), || text);
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Language {
    C,
    Rust,
}

/// `--format c|rust`: the BTF as a C header (bpf-core's `vmlinux.h` writer) or as Rust types
/// (bpf-core's generator: `#[repr(C)]`, zerocopy derives, layout assertions).
fn dump_code(
    source: &str,
    names: &[String],
    language: Language,
    out: &Output,
) -> Result<(), CliError> {
    let btf = load(source)?;
    let ids = names
        .iter()
        .map(|name| {
            type_by_name(&btf, name).ok_or_else(|| {
                CliError::msg(format!(
                    "btf dump {source}: no struct, union, enum or typedef `{name}`"
                ))
            })
        })
        .collect::<Result<Vec<u32>, CliError>>()?;
    let what = || format!("btf dump {source} as {language:?}");
    let mut text = String::new();
    match language {
        Language::C if ids.is_empty() => {
            write_c_header(&btf, &mut text, &CHeaderOptions::default()).context(what)?;
        }
        Language::C => {
            let mut writer = CWriter::new(&btf).context(what)?;
            for id in ids {
                writer.write_type(id, &mut text).context(what)?;
            }
        }
        Language::Rust => {
            let mut types = RustTypes::new(&btf, RustTypesOptions::default());
            let roots = if ids.is_empty() {
                representable_roots(&btf)
            } else {
                ids
            };
            for id in roots {
                types.add(id).context(what)?;
            }
            types.write(&mut text).context(what)?;
        }
    }
    let format = match language {
        Language::C => "c",
        Language::Rust => "rust",
    };
    out.emit(
        &json!({"source": source, "format": format, "code": text}),
        || text,
    );
    Ok(())
}

/// The struct, union, typedef or enum named `name` (in that order when several share it).
fn type_by_name(btf: &Btf, name: &str) -> Option<u32> {
    [
        BtfKind::Struct,
        BtfKind::Union,
        BtfKind::Typedef,
        BtfKind::Enum,
        BtfKind::Enum64,
    ]
    .into_iter()
    .find_map(|kind| btf.find_by_name_kind(name, kind))
}

/// Every named struct, union, enum and typedef of `btf`'s own ids that has a Rust value type
/// (each tried alone: a forward declaration or an odd-sized integer inside one type must not
/// stop the others).
fn representable_roots(btf: &Btf) -> Vec<u32> {
    (btf.first_id()..btf.end_id())
        .filter(|&id| {
            btf.type_by_id(id).is_ok_and(|t| {
                !t.name.is_empty()
                    && matches!(
                        t.kind,
                        TypeKind::Struct(_)
                            | TypeKind::Union(_)
                            | TypeKind::Enum(_)
                            | TypeKind::Enum64(_)
                            | TypeKind::Typedef { .. }
                    )
            })
        })
        .filter(|&id| {
            let mut alone = RustTypes::new(btf, RustTypesOptions::default());
            alone.add(id).is_ok() && alone.write(&mut String::new()).is_ok()
        })
        .collect()
}
