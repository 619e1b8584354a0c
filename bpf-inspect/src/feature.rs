//! `feature`: what this kernel supports, found by probing.

use clap::Args;

use crate::{CliError, Output};

#[derive(Debug, Args)]
pub struct FeatureArgs {}

pub fn run(_args: FeatureArgs, _out: Output) -> Result<(), CliError> {
    Err(CliError::msg("feature: not yet"))
}
