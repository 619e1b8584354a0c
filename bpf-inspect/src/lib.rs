//! `bpf-inspect`: what is loaded in the kernel (programs, maps, links, BTF), what the kernel
//! supports, and what an object file holds — with types from BTF, as tables or `--json`.

mod btf_cmd;
mod error;
mod feature;
mod jit;
mod link;
pub mod map;
mod object;
mod prog;
mod table;

use std::cell::RefCell;

use clap::{Parser, Subcommand};
use serde_json::Value;

pub use error::{CliError, Context};

/// Inspect loaded eBPF programs, maps, links and BTF, kernel features, and object files.
#[derive(Debug, Parser)]
#[command(name = "bpf-inspect", version)]
pub struct Cli {
    /// Print JSON instead of aligned text.
    #[arg(long, global = true)]
    pub json: bool,
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

/// What a command produced: its JSON form and its text form.
#[derive(Debug, Default)]
pub struct Output {
    report: RefCell<Option<(Value, String)>>,
}

impl Output {
    /// Records the command's result (both forms; `main` prints one).
    pub fn emit(&self, value: &Value, text: impl FnOnce() -> String) {
        *self.report.borrow_mut() = Some((value.clone(), text()));
    }
}

/// Runs a parsed command line; returns the JSON and text forms of its output.
pub fn execute(cli: Cli) -> Result<(Value, String), CliError> {
    let out = Output::default();
    match cli.command {
        Command::Prog(c) => prog::run(c, &out),
        Command::Map(c) => map::run(c, &out),
        Command::Link(c) => link::run(c, &out),
        Command::Btf(c) => btf_cmd::run(c, &out),
        Command::Feature(a) => feature::run(a, &out),
        Command::Object(a) => object::run(a, &out),
    }?;
    Ok(out.report.take().unwrap_or((Value::Null, String::new())))
}

/// Parses `args` (without the program name) and runs the command, as the binary would.
pub fn run_args(args: &[&str]) -> Result<(Value, String), CliError> {
    let cli = Cli::try_parse_from(std::iter::once("bpf-inspect").chain(args.iter().copied()))
        .map_err(|e| CliError::msg(e.to_string()))?;
    execute(cli)
}
