//! One parsed source file, and what marks code as test-only.

use std::path::{Path, PathBuf};

/// A parsed Rust file.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub syntax: syn::File,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let syntax = syn::parse_file(&text)
            .map_err(|e| format!("{}:{}: {e}", path.display(), e.span().start().line))?;
        Ok(SourceFile {
            path: path.to_path_buf(),
            syntax,
        })
    }
}

/// Whether attributes mark an item as test code: `#[test]`, or a `#[cfg(..)]` naming `test`
/// outside a `not(..)`.
pub fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if attr.path().is_ident("test") {
            return true;
        }
        if !attr.path().is_ident("cfg") {
            return false;
        }
        let syn::Meta::List(list) = &attr.meta else {
            return false;
        };
        let text = list.tokens.to_string();
        text.split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| word == "test")
            && !text.contains("not")
    })
}
