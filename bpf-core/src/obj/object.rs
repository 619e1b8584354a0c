//! The parsed object: its programs, functions, maps, externs and BTF, built by
//! [`Object::parse`] and queried by the loader.

use std::collections::BTreeMap;

use super::{ArenaData, ArenaPlacementError, Extern, Function, FunctionId, Map, Program};
use crate::btf::{Btf, BtfExt};

/// A parsed eBPF object. Nothing in it refers to kernel resources.
#[derive(Debug, Clone)]
pub struct Object {
    pub license: Option<String>,
    pub kernel_version: Option<u32>,
    /// The object's `.BTF` (func/line info types, map key/value types, CO-RE local types).
    pub btf: Option<Btf>,
    /// The object's `.BTF.ext`, also distributed to [`Function`]s.
    pub btf_ext: Option<BtfExt>,
    pub programs: Vec<Program>,
    pub functions: BTreeMap<FunctionId, Function>,
    pub maps: Vec<Map>,
    pub externs: Vec<Extern>,
    /// `__arena` globals (`.addr_space.1`), placed inside the object's arena map.
    pub arena_data: Option<ArenaData>,
    /// `bpf_log.h` call-site descriptors (section `.bpf_log`), read by the log reader.
    pub log_section: Option<crate::log::LogSection>,
}

impl Object {
    /// The program named `name` (its function's symbol name).
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// Whether ELF section `section_index` holds functions.
    pub fn is_code_section(&self, section_index: usize) -> bool {
        let first = FunctionId {
            section_index,
            insn_index: 0,
        };
        self.functions
            .range(first..)
            .next()
            .is_some_and(|(id, _)| id.section_index == section_index)
    }

    /// The function that starts at `id`.
    pub fn function(&self, id: FunctionId) -> Option<&Function> {
        self.functions.get(&id)
    }

    /// The object's arena maps (libbpf supports one per object; `__arena` globals need exactly
    /// one).
    pub fn arena_maps(&self) -> impl Iterator<Item = &Map> {
        self.maps.iter().filter(|m| m.is_arena())
    }

    /// Byte offset of the `__arena` globals inside the arena map, given the arena's size in
    /// bytes and the page size; `Ok(None)` when the object has no `__arena` globals.
    pub fn arena_data_offset(
        &self,
        arena_size: u64,
        page_size: u64,
    ) -> Result<Option<u64>, ArenaPlacementError> {
        self.arena_data
            .as_ref()
            .map(|data| data.offset_in_arena(arena_size, page_size))
            .transpose()
    }
}
