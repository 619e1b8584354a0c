//! `__arena` global variables: clang puts variables declared in address space 1 into
//! `.addr_space.1`; libbpf places that section's bytes at the end of the object's (single)
//! `BPF_MAP_TYPE_ARENA` map, and relocates references to them as loads of the arena's
//! user-space address plus an offset.

use bpf_sys::generated::bpf_map_type;

use super::{Map, Variable};

/// The ELF section clang gives `__attribute__((address_space(1)))` globals.
pub const ARENA_SECTION: &str = ".addr_space.1";

/// The contents of `.addr_space.1`: initial bytes and variables, placed inside the arena map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArenaData {
    /// ELF section index of `.addr_space.1`.
    pub section_index: usize,
    /// Initial bytes (zeros for zero-initialised variables).
    pub data: Vec<u8>,
    /// Variables, offsets relative to the start of the section.
    pub variables: Vec<Variable>,
}

/// Why the arena data cannot be placed in the arena.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ArenaPlacementError {
    #[error(
        "the arena is {arena_size} bytes, too small for the {data_size} bytes of `__arena` \
         globals (rounded up to {rounded} bytes, whole pages)"
    )]
    TooSmall {
        arena_size: u64,
        data_size: u64,
        rounded: u64,
    },
    #[error("page size {0} is not a power of two")]
    PageSize(u64),
}

impl ArenaData {
    /// Size of the data in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// A variable by name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// Where the data goes inside an arena of `arena_size` bytes (max_entries × page size), as
    /// libbpf places it: at the end, `arena_size` − the data size rounded up to whole pages.
    pub fn offset_in_arena(
        &self,
        arena_size: u64,
        page_size: u64,
    ) -> Result<u64, ArenaPlacementError> {
        if !page_size.is_power_of_two() {
            return Err(ArenaPlacementError::PageSize(page_size));
        }
        let rounded = self.size().next_multiple_of(page_size);
        arena_size
            .checked_sub(rounded)
            .ok_or(ArenaPlacementError::TooSmall {
                arena_size,
                data_size: self.size(),
                rounded,
            })
    }
}

impl Map {
    /// Whether this is a `BPF_MAP_TYPE_ARENA` map.
    pub fn is_arena(&self) -> bool {
        self.def.map_type == bpf_map_type::BPF_MAP_TYPE_ARENA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> ArenaData {
        ArenaData {
            section_index: 1,
            data: vec![0; len],
            variables: Vec::new(),
        }
    }

    #[test]
    fn placed_at_the_end_in_whole_pages() {
        assert_eq!(data(16).offset_in_arena(4 * 4096, 4096), Ok(3 * 4096));
        assert_eq!(data(4096).offset_in_arena(4 * 4096, 4096), Ok(3 * 4096));
        assert_eq!(data(4097).offset_in_arena(4 * 4096, 4096), Ok(2 * 4096));
        assert_eq!(data(16).offset_in_arena(65536, 65536), Ok(0));
    }

    #[test]
    fn too_small_arenas_and_odd_pages_are_refused() {
        assert_eq!(
            data(4097).offset_in_arena(4096, 4096),
            Err(ArenaPlacementError::TooSmall {
                arena_size: 4096,
                data_size: 4097,
                rounded: 8192
            })
        );
        assert_eq!(
            data(1).offset_in_arena(4096, 1000),
            Err(ArenaPlacementError::PageSize(1000))
        );
    }
}
