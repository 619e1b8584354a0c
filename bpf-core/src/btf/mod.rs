//! BTF: parsing, marshalling, sanitising, `.BTF.ext` and CO-RE.
//!
//! - [`Btf::parse`] / [`Btf::parse_shared`] / [`Btf::parse_split`]: index type records once,
//!   decode on demand ([`Btf::type_by_id`] → [`Type`] with a [`TypeKind`] view).
//! - [`Btf::resolve`], [`Btf::type_size`], [`Btf::type_align`], [`Btf::find_by_name_kind`].
//! - Before `BTF_LOAD`: [`Btf::fixup_datasecs`], [`Btf::sanitize`] with [`BtfFeatures`],
//!   then [`Btf::to_bytes`].
//! - [`BtfExt::parse`]: func/line info and CO-RE records per ELF section (byte offsets).
//! - [`write_c_header`] / [`CWriter`]: BTF as C (`vmlinux.h`), as bpftool writes it.
//! - [`RustTypes`] / [`write_rust_types`]: BTF types as plain-old-data Rust types.
//! - [`core::relocate`] against a [`core::CoreTarget`]: CO-RE for one function's instructions.

mod bytes;
mod c_header;
pub mod core;
mod error;
mod ext;
mod fixup;
mod kind;
mod parse;
mod rust_types;
mod sanitize;
#[cfg(test)]
pub(crate) mod test_builder;
mod types;
pub mod value;

pub use bytes::SharedBytes;
pub use c_header::{CHeaderError, CHeaderOptions, CWriter, write_c_header};
pub use error::BtfError;
pub use ext::{BtfExt, CoreRelo, CoreReloKind, ExtSection, FuncInfo, LineInfo};
pub use fixup::DataSymbol;
pub use kind::BtfKind;
pub use parse::{Btf, essential_name};
pub use rust_types::{RustTypes, RustTypesError, RustTypesOptions, write_rust_types};
pub use sanitize::BtfFeatures;
pub use types::*;
