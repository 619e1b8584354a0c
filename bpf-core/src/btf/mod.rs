//! BTF: parsing, marshalling, sanitising, `.BTF.ext` and CO-RE.

mod error;
mod ext;
mod parse;
mod types;

pub use error::BtfError;
pub use ext::{BtfExt, CoreRelo, CoreReloKind, ExtSection, FuncInfo, LineInfo};
pub use parse::{Btf, essential_name};
pub use types::*;
