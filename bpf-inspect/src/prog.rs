//! `prog list|show|dump`: loaded programs.

use bpf_core::names;
use std::collections::BTreeMap;

use bpf_core::btf::Btf;
use bpf_core::disasm::{ListingOptions, XlatedSymbols, format_program};
use bpf_programs::programs::kernel_functions::KernelSymbols;
use bpf_programs::programs::{LinkInfo, ProgramCode, ProgramInfo, loaded_links, loaded_programs};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::table::{Table, key_values};
use crate::{CliError, Context, Output};

#[derive(Debug, Subcommand)]
pub enum ProgCommand {
    /// Every loaded program.
    List,
    /// One program in detail, with the links attaching it.
    Show { id: u32 },
    /// A program's instructions, with source lines from its BTF.
    Dump {
        id: u32,
        /// The instructions after verification (the default).
        #[arg(long, conflicts_with = "jited")]
        xlated: bool,
        /// The JIT-compiled machine code.
        #[arg(long)]
        jited: bool,
        /// Source lines with their file, line and column (bpftool's `linum`).
        #[arg(long)]
        linum: bool,
    },
    /// `bpf_printk` output, read from a private tracefs instance; only program ID's lines
    /// (matched by its formats) when given.
    Tracelog {
        id: Option<u32>,
        /// Stop after this many lines.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds without a line (0: wait forever).
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Print lines as they come instead of all at the end.
        #[arg(long)]
        follow: bool,
    },
}

pub fn run(command: ProgCommand, out: &Output) -> Result<(), CliError> {
    match command {
        ProgCommand::List => list(out),
        ProgCommand::Show { id } => show(id, out),
        ProgCommand::Tracelog {
            id,
            count,
            timeout,
            follow,
        } => tracelog(id, count, timeout, follow, out),
        ProgCommand::Dump {
            id, jited, linum, ..
        } => {
            let code = ProgramCode::from_id(id).context(|| format!("program {id}"))?;
            if jited {
                crate::jit::dump(&code, out)
            } else {
                dump_xlated(&code, linum, out)
            }
        }
    }
}

fn tag(info: &ProgramInfo) -> String {
    info.tag_hex()
}

/// The program's whole name: the kernel keeps 15 bytes, its BTF the function's full name.
pub fn full_name(info: &ProgramInfo) -> String {
    let name = info.name();
    if name.len() < 15 || info.btf_id().is_none() {
        return name.to_owned();
    }
    ProgramCode::from_id(info.id())
        .ok()
        .and_then(|code| code.functions().into_iter().next())
        .map(|f| f.name)
        .filter(|full| full.starts_with(name))
        .unwrap_or_else(|| name.to_owned())
}

pub fn to_json(info: &ProgramInfo) -> Value {
    let loaded_at = info
        .load_time()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    json!({
        "id": info.id(),
        "type": names::prog_type(info.program_type()),
        "name": full_name(info),
        "tag": tag(info),
        "gpl_compatible": info.gpl_compatible(),
        "run_time_ns": info.run_time().as_nanos() as u64,
        "run_cnt": info.run_count(),
        "recursion_misses": info.recursion_misses(),
        "loaded_at": loaded_at,
        "uid": info.created_by_uid(),
        "bytes_xlated": info.size_translated(),
        "jited": info.size_jited() > 0,
        "bytes_jited": info.size_jited(),
        "bytes_memlock": info.memlock(),
        "map_ids": info.map_ids(),
        "btf_id": info.btf_id(),
        "verified_insns": info.verified_instructions(),
    })
}

fn loaded_at_text(info: &ProgramInfo) -> String {
    match info
        .load_time()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
    {
        Some(d) => {
            let age = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|now| now.as_secs().saturating_sub(d.as_secs()))
                .unwrap_or(0);
            format!("{age}s ago")
        }
        None => "-".into(),
    }
}

fn list(out: &Output) -> Result<(), CliError> {
    let mut programs = Vec::new();
    for program in loaded_programs() {
        programs.push(program.context(|| "listing programs".to_owned())?);
    }
    let value = Value::Array(programs.iter().map(to_json).collect());
    out.emit(&value, || {
        let mut t = Table::new(&[
            "ID", "TYPE", "NAME", "TAG", "LOADED", "RUNS", "RUN_NS", "XLATED", "JITED", "MEMLOCK",
            "MAPS", "BTF",
        ]);
        for p in &programs {
            t.row(vec![
                p.id().to_string(),
                names::prog_type(p.program_type()),
                full_name(p),
                tag(p),
                loaded_at_text(p),
                p.run_count().to_string(),
                p.run_time().as_nanos().to_string(),
                p.size_translated().to_string(),
                p.size_jited().to_string(),
                p.memlock().map_or("-".into(), |m| m.to_string()),
                join_ids(p.map_ids()),
                p.btf_id().map_or("-".into(), |b| b.to_string()),
            ]);
        }
        t.render()
    });
    Ok(())
}

pub fn join_ids(ids: &[u32]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// What a link attaches to, in words.
pub fn link_target(link: &LinkInfo) -> String {
    use bpf_sys::info::LinkDetails as D;
    match link.details() {
        D::RawTracepoint => format!("tracepoint {}", link.target_name()),
        D::Iter => format!("iter {}", link.target_name()),
        D::Tracing {
            attach_type,
            target_obj_id,
            target_btf_id,
        } => format!(
            "{} btf_id {target_btf_id} (object {target_obj_id})",
            names::attach_type(attach_type)
        ),
        D::Cgroup {
            cgroup_id,
            attach_type,
        } => format!("{} cgroup {cgroup_id}", names::attach_type(attach_type)),
        D::Netns {
            netns_ino,
            attach_type,
        } => format!("{} netns {netns_ino}", names::attach_type(attach_type)),
        D::Xdp { ifindex } => format!("xdp ifindex {ifindex}"),
        D::StructOps { map_id } => format!("struct_ops map {map_id}"),
        D::Netfilter {
            pf,
            hooknum,
            priority,
            ..
        } => format!("netfilter pf {pf} hook {hooknum} prio {priority}"),
        D::KprobeMulti { count, flags } => {
            format!("kprobe_multi {count} functions (flags {flags:#x})")
        }
        D::UprobeMulti { count, pid, .. } => format!("uprobe_multi {count} probes pid {pid}"),
        D::PerfEvent { perf_event_type } => format!("perf_event type {perf_event_type}"),
        D::Tcx {
            ifindex,
            attach_type,
        } => format!("{} ifindex {ifindex}", names::attach_type(attach_type)),
        D::Netkit {
            ifindex,
            attach_type,
        } => format!("{} ifindex {ifindex}", names::attach_type(attach_type)),
        D::Sockmap {
            map_id,
            attach_type,
        } => format!("{} map {map_id}", names::attach_type(attach_type)),
        _ => "-".into(),
    }
}

fn show(id: u32, out: &Output) -> Result<(), CliError> {
    let info = ProgramInfo::from_id(id).context(|| format!("program {id}"))?;
    // Links are listed whole and filtered: the kernel has no per-program query for them.
    let links: Vec<LinkInfo> = loaded_links()
        .filter_map(Result::ok)
        .filter(|l| l.program_id() == id)
        .collect();
    let mut value = to_json(&info);
    value["links"] = links
        .iter()
        .map(|l| json!({"id": l.id(), "type": names::link_type(l.link_type()), "target": link_target(l)}))
        .collect();
    out.emit(&value, || {
        let mut pairs = vec![
            ("id", info.id().to_string()),
            ("type", names::prog_type(info.program_type())),
            ("name", full_name(&info)),
            ("tag", tag(&info)),
            ("gpl", info.gpl_compatible().to_string()),
            ("loaded", loaded_at_text(&info)),
            ("uid", info.created_by_uid().to_string()),
            ("runs", info.run_count().to_string()),
            ("run time", format!("{} ns", info.run_time().as_nanos())),
            ("xlated", format!("{} B", info.size_translated())),
            ("jited", format!("{} B", info.size_jited())),
            (
                "memlock",
                info.memlock().map_or("-".into(), |m| format!("{m} B")),
            ),
            ("verified insns", info.verified_instructions().to_string()),
            ("map ids", join_ids(info.map_ids())),
            (
                "btf id",
                info.btf_id().map_or("-".into(), |b| b.to_string()),
            ),
        ];
        for l in &links {
            pairs.push((
                "link",
                format!(
                    "{} {} {}",
                    l.id(),
                    names::link_type(l.link_type()),
                    link_target(l)
                ),
            ));
        }
        key_values(&pairs)
    });
    Ok(())
}

/// The running kernel's BTF, for helper and kfunc names (none: numbers are printed).
pub fn kernel_btf() -> Option<Btf> {
    bpf_programs::btf::read_btf_file("/sys/kernel/btf/vmlinux").ok()
}

fn dump_xlated(code: &ProgramCode, linum: bool, out: &Output) -> Result<(), CliError> {
    let insns = code.xlated();
    if insns.is_empty() {
        return Err(CliError::msg(format!(
            "program {}: the kernel returned no translated instructions (needs CAP_SYS_ADMIN)",
            code.info().id()
        )));
    }
    // Without kallsyms helper calls print as addresses, as bpftool's do.
    let symbols = KernelSymbols::read().unwrap_or_default();
    let options = ListingOptions {
        source_lines: true,
        line_numbers: linum,
    };
    let text = code.xlated_listing(&symbols, options);

    let functions = code.functions();
    let lines = code.lines();
    let mut line_at: BTreeMap<usize, &bpf_programs::programs::SourceLine> = BTreeMap::new();
    for line in &lines {
        line_at.entry(line.insn).or_insert(line);
    }
    let symbol_at = |address: u64| symbols.name_at(address).map(str::to_owned);
    let jited: Vec<u64> = functions.iter().map(|f| f.jited_address).collect();
    let jited = if jited.iter().all(|&a| a == 0) {
        Vec::new()
    } else {
        jited
    };
    let names = XlatedSymbols {
        call_base: symbols.address_of("__bpf_call_base").unwrap_or(0),
        jited_functions: &jited,
        symbol_at: &symbol_at,
    };
    let mut json_insns = Vec::new();
    for (index, insn_text) in format_program(insns, &names) {
        let mut entry = json!({"pc": index, "insn": insn_text});
        if let Some(line) = line_at.get(&index) {
            entry["src"] = json!({"file": line.file, "line": line.line, "column": line.column, "text": line.text});
        }
        json_insns.push(entry);
    }
    let value = json!({
        "id": code.info().id(),
        "name": code.info().name(),
        "functions": functions.iter().map(|f| json!({"name": f.name, "signature": f.signature, "first_insn": f.first_insn})).collect::<Vec<_>>(),
        "insns": json_insns,
    });
    out.emit(&value, || text);
    Ok(())
}

fn tracelog(
    id: Option<u32>,
    count: Option<usize>,
    timeout: u64,
    follow: bool,
    out: &Output,
) -> Result<(), CliError> {
    use bpf_programs::trace_pipe::TracePipe;
    let what = || match id {
        Some(id) => format!("bpf_printk output of program {id}"),
        None => "bpf_printk output".to_owned(),
    };
    let mut pipe = TracePipe::open().context(what)?;
    if let Some(id) = id {
        pipe = pipe.only_program(id).context(what)?;
    }
    let wait = (timeout > 0).then(|| std::time::Duration::from_secs(timeout));
    let mut lines = Vec::new();
    let mut text = String::new();
    while count.is_none_or(|c| lines.len() < c) {
        let Some(line) = pipe.next_line(wait).context(what)? else {
            break;
        };
        let shown = format!(
            "{}-{} [{:03}] {:.6}: {}\n",
            line.task, line.pid, line.cpu, line.timestamp, line.message
        );
        if follow {
            print!("{shown}");
        } else {
            text.push_str(&shown);
        }
        lines.push(json!({"task": line.task, "pid": line.pid, "cpu": line.cpu,
                          "timestamp": line.timestamp, "message": line.message}));
    }
    out.emit(&Value::Array(lines), || text);
    Ok(())
}
