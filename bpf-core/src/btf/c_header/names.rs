//! Unique C names: a second `struct foo` becomes `foo___2`, as bpftool names them.

use std::borrow::Cow;

use super::CWriter;
use super::name_counts::Namespace;
use crate::btf::{BtfError, TypeKind};

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
