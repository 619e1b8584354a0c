//! How often each C name was used, per namespace: the counts behind `name___N`.

use std::collections::HashMap;

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
