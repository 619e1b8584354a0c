//! Unique C names: a second `struct foo` becomes `foo___2`, as bpftool names them.

use std::borrow::Cow;
use std::collections::HashMap;

use super::CWriter;
use crate::btf::{BtfError, TypeKind};

/// Which C namespace a name is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Namespace {
    /// Struct, union and enum tags.
    Tags,
    /// Typedef names and enumerators (ordinary identifiers).
    Idents,
}

/// Occurrence counts of names per namespace.
#[derive(Debug, Default)]
pub(super) struct NameCounts {
    tags: HashMap<String, usize>,
    idents: HashMap<String, usize>,
}

impl NameCounts {
    /// Counts one more use of `name` and returns how many there are now (1 for the first).
    pub(super) fn count(&mut self, namespace: Namespace, name: &str) -> usize {
        let map = match namespace {
            Namespace::Tags => &mut self.tags,
            Namespace::Idents => &mut self.idents,
        };
        match map.get_mut(name) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                map.insert(name.to_owned(), 1);
                1
            }
        }
    }
}

impl<'b> CWriter<'b> {
    /// The name type `id` is written under: its BTF name, or `name___N` for the N-th type of
    /// that name in `namespace`. Fixed on first use, so the order of first uses decides.
    pub(super) fn unique_name(
        &mut self,
        id: u32,
        namespace: Namespace,
    ) -> Result<Cow<'b, str>, BtfError> {
        let t = self.btf.type_by_id(id)?;
        if t.name.is_empty() {
            return Ok(Cow::Borrowed(""));
        }
        let index = id as usize;
        if self.states[index].name_resolved {
            return Ok(match self.renamed.get(&id) {
                Some(name) => Cow::Owned(name.clone()),
                None => Cow::Borrowed(t.name),
            });
        }
        self.states[index].name_resolved = true;
        // Forward declarations and empty enums name a type defined elsewhere: never renamed.
        let names_other = match t.kind {
            TypeKind::Fwd { .. } => true,
            TypeKind::Enum(e) => e.is_empty(),
            _ => false,
        };
        if names_other {
            return Ok(Cow::Borrowed(t.name));
        }
        let dups = self.names.count(namespace, t.name);
        if dups > 1 {
            let name = format!("{}___{dups}", t.name);
            self.renamed.insert(id, name.clone());
            return Ok(Cow::Owned(name));
        }
        Ok(Cow::Borrowed(t.name))
    }

    /// Struct, union and enum names.
    pub(super) fn tag_name(&mut self, id: u32) -> Result<Cow<'b, str>, BtfError> {
        self.unique_name(id, Namespace::Tags)
    }

    /// Typedef names.
    pub(super) fn ident_name(&mut self, id: u32) -> Result<Cow<'b, str>, BtfError> {
        self.unique_name(id, Namespace::Idents)
    }
}
