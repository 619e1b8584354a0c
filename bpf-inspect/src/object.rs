//! `object FILE`: what an eBPF object file holds — programs, maps, globals, externs and CO-RE
//! relocations, each relocation resolved against this kernel's BTF.

use bpf_core::names;
use std::sync::Arc;

use bpf_core::btf::core::{CoreTarget, describe_access, relocate};
use bpf_core::obj::{MapKind, Object};
use clap::Args;
use serde_json::{Value, json};

use crate::table::Table;
use crate::{CliError, Context, Output};

#[derive(Debug, Args)]
pub struct ObjectArgs {
    /// The object file (`clang -target bpf` output).
    pub file: std::path::PathBuf,
    /// BTF to resolve CO-RE relocations against (default: the running kernel's).
    #[arg(long)]
    pub target_btf: Option<std::path::PathBuf>,
}

/// Whether one relocation resolves against the target.
fn resolves(object: &Object, function: usize, relo: usize, target: &CoreTarget) -> String {
    let Some(f) = object.functions.values().nth(function) else {
        return "error".into();
    };
    let (Some(local), Some(r)) = (object.btf.as_ref(), f.core_relocations.get(relo)) else {
        return "error".into();
    };
    let mut insns = f.insns.clone();
    match relocate(&mut insns, std::slice::from_ref(r), local, target) {
        Ok(report) if report.poisoned.is_empty() => "yes".into(),
        Ok(_) => "no".into(),
        Err(e) => format!("error: {e}"),
    }
}

pub fn run(args: ObjectArgs, out: &Output) -> Result<(), CliError> {
    let path = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).context(|| format!("object {path}"))?;
    let object = Object::parse(&bytes).context(|| format!("object {path}"))?;
    let target_path = args
        .target_btf
        .clone()
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let target = bpf_programs::btf::read_btf_file(&target_path)
        .map(|btf| CoreTarget::new(Arc::new(btf), Vec::new()))
        .ok();

    let programs: Vec<Value> = object
        .programs
        .iter()
        .map(|p| {
            let insns = object.function(p.function).map_or(0, |f| f.insns.len());
            json!({
                "name": p.name,
                "section": p.section_name,
                "type": p.section.prog_type().map(names::prog_type),
                "attach_type": p.section.expected_attach_type().map(names::attach_type),
                "insns": insns,
                "autoload": p.autoload,
            })
        })
        .collect();
    let maps: Vec<Value> = object
        .maps
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "kind": format!("{:?}", m.kind),
                "type": names::map_type(m.def.map_type),
                "key_size": m.def.key_size,
                "value_size": m.def.value_size,
                "max_entries": m.def.max_entries,
                "flags": m.def.map_flags,
                "pinning": format!("{:?}", m.def.pinning),
            })
        })
        .collect();
    let globals: Vec<Value> = object
        .maps
        .iter()
        .filter(|m| matches!(m.kind, MapKind::Data(_)))
        .flat_map(|m| {
            m.variables.iter().map(move |v| {
                json!({"section": m.name, "name": v.name, "offset": v.offset, "size": v.size})
            })
        })
        .collect();
    let externs: Vec<Value> = object
        .externs
        .iter()
        .map(|e| json!({"name": e.name, "kind": format!("{:?}", e.kind), "weak": e.weak}))
        .collect();
    let mut relocations = Vec::new();
    if let Some(local) = object.btf.as_ref() {
        for (fi, f) in object.functions.values().enumerate() {
            for (ri, r) in f.core_relocations.iter().enumerate() {
                let access = describe_access(local, r).unwrap_or_else(|e| e.to_string());
                let resolved = match &target {
                    Some(t) => resolves(&object, fi, ri, t),
                    None => format!("unknown (no BTF at {})", target_path.display()),
                };
                relocations.push(json!({
                    "function": f.name,
                    "insn": r.insn_off / 8,
                    "kind": r.kind.name(),
                    "access": access,
                    "resolves": resolved,
                }));
            }
        }
    }
    let value = json!({
        "file": path,
        "license": object.license,
        "programs": programs,
        "maps": maps,
        "globals": globals,
        "externs": externs,
        "core_relocations": relocations,
        "log_sites": object.log_section.as_ref().map(|s| s.symbols.len()),
    });
    out.emit(&value, || render(&value));
    Ok(())
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn table(title: &str, rows: &Value, columns: &[(&str, &str)]) -> String {
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    if rows.is_empty() {
        return format!("{title}: none\n\n");
    }
    let header: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let mut t = Table::new(&header);
    for row in rows {
        t.row(columns.iter().map(|(_, key)| cell(&row[*key])).collect());
    }
    format!("{title}:\n{}\n", t.render())
}

fn render(v: &Value) -> String {
    let mut text = format!(
        "file: {}  license: {}\n\n",
        cell(&v["file"]),
        cell(&v["license"])
    );
    text += &table(
        "programs",
        &v["programs"],
        &[
            ("NAME", "name"),
            ("SECTION", "section"),
            ("TYPE", "type"),
            ("ATTACH", "attach_type"),
            ("INSNS", "insns"),
            ("AUTOLOAD", "autoload"),
        ],
    );
    text += &table(
        "maps",
        &v["maps"],
        &[
            ("NAME", "name"),
            ("TYPE", "type"),
            ("KEY", "key_size"),
            ("VALUE", "value_size"),
            ("MAX", "max_entries"),
            ("FLAGS", "flags"),
            ("PINNING", "pinning"),
            ("KIND", "kind"),
        ],
    );
    text += &table(
        "globals",
        &v["globals"],
        &[
            ("SECTION", "section"),
            ("NAME", "name"),
            ("OFFSET", "offset"),
            ("SIZE", "size"),
        ],
    );
    text += &table(
        "externs",
        &v["externs"],
        &[("NAME", "name"), ("KIND", "kind"), ("WEAK", "weak")],
    );
    text += &table(
        "CO-RE relocations",
        &v["core_relocations"],
        &[
            ("FUNCTION", "function"),
            ("INSN", "insn"),
            ("KIND", "kind"),
            ("ACCESS", "access"),
            ("RESOLVES", "resolves"),
        ],
    );
    text
}
