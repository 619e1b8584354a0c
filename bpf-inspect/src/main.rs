//! The `bpf-inspect` command line; see the library for the commands.

use std::process::ExitCode;

use bpf_inspect::{Cli, execute};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match execute(cli) {
        Ok((value, text)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_else(|_| "null".into())
                );
            } else {
                print!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "error": e.to_string(), "causes": e.causes() })
                );
            }
            eprintln!("bpf-inspect: {}", e.chain());
            ExitCode::FAILURE
        }
    }
}
