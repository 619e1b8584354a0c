//! `link list|show`: attachments.

use bpf_core::names;
use bpf_programs::programs::{LinkInfo, loaded_links};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::prog::link_target;
use crate::table::{Table, key_values};
use crate::{CliError, Context, Output};

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Every link.
    List,
    /// One link.
    Show { id: u32 },
}

fn to_json(link: &LinkInfo) -> Value {
    let mut value = json!({
        "id": link.id(),
        "type": names::link_type(link.link_type()),
        "prog_id": link.program_id(),
        "target": link_target(link),
    });
    if !link.target_name().is_empty() {
        value["target_name"] = json!(link.target_name());
    }
    value
}

pub fn run(command: LinkCommand, out: &Output) -> Result<(), CliError> {
    match command {
        LinkCommand::List => {
            let mut links = Vec::new();
            for link in loaded_links() {
                links.push(link.context(|| "listing links".to_owned())?);
            }
            let value = Value::Array(links.iter().map(to_json).collect());
            out.emit(&value, || {
                let mut t = Table::new(&["ID", "TYPE", "PROG", "TARGET"]);
                for l in &links {
                    t.row(vec![
                        l.id().to_string(),
                        names::link_type(l.link_type()),
                        l.program_id().to_string(),
                        link_target(l),
                    ]);
                }
                t.render()
            });
        }
        LinkCommand::Show { id } => {
            let link = LinkInfo::from_id(id).context(|| format!("link {id}"))?;
            out.emit(&to_json(&link), || {
                key_values(&[
                    ("id", link.id().to_string()),
                    ("type", names::link_type(link.link_type())),
                    ("prog id", link.program_id().to_string()),
                    ("target", link_target(&link)),
                ])
            });
        }
    }
    Ok(())
}
