//! BTF: parsing, marshalling, sanitising, `.BTF.ext` and CO-RE.

pub mod core;
mod error;
mod ext;
mod fixup;
mod parse;
mod sanitize;
mod types;

pub use error::BtfError;
pub use ext::{BtfExt, CoreRelo, CoreReloKind, ExtSection, FuncInfo, LineInfo};
pub use fixup::DataSymbol;
pub use parse::{Btf, essential_name};
pub use sanitize::BtfFeatures;
pub use types::*;
