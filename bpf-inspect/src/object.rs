//! `object FILE`: what an eBPF object file holds.

use clap::Args;

use crate::{CliError, Output};

#[derive(Debug, Args)]
pub struct ObjectArgs {
    pub file: std::path::PathBuf,
}

pub fn run(_args: ObjectArgs, _out: Output) -> Result<(), CliError> {
    Err(CliError::msg("object: not yet"))
}
