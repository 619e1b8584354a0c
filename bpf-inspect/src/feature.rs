//! `feature`: what this kernel supports, found by probing (never by its version).

use bpf_core::disasm::helper_names;
use bpf_core::names;
use bpf_programs::features::{
    Support, probe_attach_type, probe_helper, probe_map_type, probe_program_type,
};
use clap::Args;
use serde_json::{Value, json};

use crate::table::Table;
use crate::{CliError, Output};

#[derive(Debug, Args)]
pub struct FeatureArgs {
    /// Also probe which helpers each program type may call (one load per helper and type).
    #[arg(long)]
    helpers: bool,
    /// Only this program type's helpers (bpftool's name, e.g. `xdp`, `kprobe`).
    #[arg(long, requires = "helpers")]
    prog_type: Option<String>,
}

fn entry(name: &str, support: &Support) -> Value {
    let mut v = json!({"name": name, "supported": support.short()});
    if let Support::Unknown(reason) = support {
        v["note"] = json!(reason);
    }
    v
}

fn section(title: &str, rows: &[(String, Support)], text: &mut String) {
    let mut t = Table::new(&[title, "SUPPORTED", "NOTE"]);
    for (name, support) in rows {
        let note = match support {
            Support::Unknown(reason) => reason.clone(),
            _ => String::new(),
        };
        t.row(vec![name.clone(), support.short().to_owned(), note]);
    }
    text.push_str(&t.render());
    text.push('\n');
}

pub fn run(args: FeatureArgs, out: &Output) -> Result<(), CliError> {
    let programs: Vec<(String, Support)> = names::all_prog_types()
        .map(|(value, name)| (name.to_owned(), probe_program_type(value)))
        .collect();
    let maps: Vec<(String, Support)> = names::all_map_types()
        .map(|(value, name)| (name.to_owned(), probe_map_type(value)))
        .collect();
    let attach: Vec<(String, Support)> = names::all_attach_types()
        .map(|(value, name)| (name.to_owned(), probe_attach_type(value)))
        .collect();
    let mut value = json!({
        "program_types": programs.iter().map(|(n, s)| entry(n, s)).collect::<Vec<_>>(),
        "map_types": maps.iter().map(|(n, s)| entry(n, s)).collect::<Vec<_>>(),
        "attach_types": attach.iter().map(|(n, s)| entry(n, s)).collect::<Vec<_>>(),
    });
    let mut text = String::new();
    section("PROGRAM TYPE", &programs, &mut text);
    section("MAP TYPE", &maps, &mut text);
    section("ATTACH TYPE", &attach, &mut text);
    if args.helpers {
        let kernel = crate::prog::kernel_btf().ok_or_else(|| {
            CliError::msg("feature --helpers: helper names come from /sys/kernel/btf/vmlinux, which is missing")
        })?;
        let helpers = helper_names(&kernel);
        if let Some(wanted) = &args.prog_type
            && !names::all_prog_types().any(|(_, n)| n == wanted)
        {
            return Err(CliError::msg(format!(
                "feature --prog-type {wanted}: no such program type"
            )));
        }
        let mut per_type = serde_json::Map::new();
        let mut t = Table::new(&["PROGRAM TYPE", "HELPERS", "NAMES"]);
        for (value, name) in names::all_prog_types() {
            if args.prog_type.as_deref().is_some_and(|w| w != name) {
                continue;
            }
            if programs
                .iter()
                .any(|(n, s)| n == name && *s != Support::Supported)
            {
                continue;
            }
            let supported: Vec<&str> = helpers
                .iter()
                .enumerate()
                .filter(|(id, h)| {
                    !h.is_empty()
                        && *id > 0
                        && probe_helper(value, *id as u32) == Support::Supported
                })
                .map(|(_, h)| h.as_str())
                .collect();
            t.row(vec![
                name.to_owned(),
                supported.len().to_string(),
                supported.join(" "),
            ]);
            per_type.insert(name.to_owned(), json!(supported));
        }
        value["helpers"] = Value::Object(per_type);
        text.push_str(&t.render());
    }
    out.emit(&value, || text);
    Ok(())
}
