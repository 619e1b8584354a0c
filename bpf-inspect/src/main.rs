//! `bpf-inspect`: what is loaded in the kernel (programs, maps, links, BTF), what the kernel
//! supports, and what an object file holds — with types from BTF, as tables or `--json`.

mod btf_cmd;
mod error;
mod feature;
mod jit;
mod link;
mod map;
mod names;
mod object;
mod prog;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::{CliError, Context};

/// Inspect loaded eBPF programs, maps, links and BTF, kernel features, and object files.
#[derive(Debug, Parser)]
#[command(name = "bpf-inspect", version)]
struct Cli {
    /// Print JSON instead of aligned text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Loaded programs.
    #[command(subcommand)]
    Prog(prog::ProgCommand),
    /// Loaded maps.
    #[command(subcommand)]
    Map(map::MapCommand),
    /// Links (attachments).
    #[command(subcommand)]
    Link(link::LinkCommand),
    /// BTF objects in the kernel, or a BTF/ELF file.
    #[command(subcommand)]
    Btf(btf_cmd::BtfCommand),
    /// Program types, map types, attach types and helpers this kernel supports (probed).
    Feature(feature::FeatureArgs),
    /// What an eBPF object file holds.
    Object(object::ObjectArgs),
}

/// Where a command's output goes: JSON or text, to stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or `text()` as is.
    pub fn emit(&self, value: &serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
            );
        } else {
            print!("{}", text());
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    let result = match cli.command {
        Command::Prog(c) => prog::run(c, out),
        Command::Map(c) => map::run(c, out),
        Command::Link(c) => link::run(c, out),
        Command::Btf(c) => btf_cmd::run(c, out),
        Command::Feature(a) => feature::run(a, out),
        Command::Object(a) => object::run(a, out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if out.json {
                let error = serde_json::json!({ "error": e.to_string(), "causes": e.causes() });
                println!("{error}");
            }
            eprintln!("bpf-inspect: {}", e.chain());
            ExitCode::FAILURE
        }
    }
}
