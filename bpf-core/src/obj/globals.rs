//! Setting global variables (`.rodata` constants, `.data`, `.bss`, `__arena` globals) before the
//! maps are created.

use super::{ARENA_SECTION, Object};

/// Why [`Object::set_global`] refused a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SetGlobalError {
    #[error("no global variable `{name}` in the object's data sections")]
    NotFound { name: String },
    #[error("global variable `{name}` exists in several sections ({sections}); use set_global_in")]
    Ambiguous { name: String, sections: String },
    #[error("global variable `{name}` in `{section}` is {expected} bytes, got {actual}")]
    SizeMismatch {
        name: String,
        section: String,
        expected: u32,
        actual: usize,
    },
}

impl Object {
    /// Sets the initial value of global variable `name` (any data section); `value` must have
    /// exactly the variable's size.
    pub fn set_global(&mut self, name: &str, value: &[u8]) -> Result<(), SetGlobalError> {
        let mut owners: Vec<&str> = self
            .maps
            .iter()
            .filter(|m| m.variable(name).is_some())
            .map(|m| m.name.as_str())
            .collect();
        if self
            .arena_data
            .as_ref()
            .is_some_and(|a| a.variable(name).is_some())
        {
            owners.push(ARENA_SECTION);
        }
        match owners.as_slice() {
            [] => Err(SetGlobalError::NotFound {
                name: name.to_owned(),
            }),
            [section] => {
                let section = (*section).to_owned();
                self.set_global_in(&section, name, value)
            }
            many => Err(SetGlobalError::Ambiguous {
                name: name.to_owned(),
                sections: many.join(", "),
            }),
        }
    }

    /// Sets the initial value of `name` in data section `section` (e.g. `.rodata`).
    pub fn set_global_in(
        &mut self,
        section: &str,
        name: &str,
        value: &[u8],
    ) -> Result<(), SetGlobalError> {
        let not_found = || SetGlobalError::NotFound {
            name: name.to_owned(),
        };
        let (variables, data) = if section == ARENA_SECTION {
            let arena = self.arena_data.as_mut().ok_or_else(not_found)?;
            (&arena.variables, &mut arena.data)
        } else {
            let map = self
                .maps
                .iter_mut()
                .find(|m| m.name == section)
                .ok_or_else(not_found)?;
            (&map.variables, &mut map.data)
        };
        let variable = variables
            .iter()
            .find(|v| v.name == name)
            .cloned()
            .ok_or_else(not_found)?;
        if value.len() != variable.size as usize {
            return Err(SetGlobalError::SizeMismatch {
                name: name.to_owned(),
                section: section.to_owned(),
                expected: variable.size,
                actual: value.len(),
            });
        }
        let start = variable.offset as usize;
        let slot = data
            .get_mut(start..start + value.len())
            .ok_or_else(not_found)?;
        slot.copy_from_slice(value);
        Ok(())
    }

    /// The current initial value of global variable `name` (first data section holding it,
    /// `__arena` globals last).
    pub fn global(&self, name: &str) -> Option<&[u8]> {
        let arena = self
            .arena_data
            .as_ref()
            .map(|a| (a.variable(name), &a.data));
        self.maps
            .iter()
            .map(|m| (m.variable(name), &m.data))
            .chain(arena)
            .find_map(|(v, data)| {
                let v = v?;
                data.get(v.offset as usize..v.offset as usize + v.size as usize)
            })
    }
}
