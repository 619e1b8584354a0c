//! An arena map's memory mapping, made when the map is created or opened.

use bpf_core::obj;
use bpf_sys::generated::bpf_map_type;
use bpf_sys::mmap::MmapRegion;

use super::error::MapError;
use super::map_data::{MapData, arena_size, syscall};

impl MapData {
    /// Maps an arena map (a no-op for other types): `max_entries` pages, read-write, at
    /// `map_extra` when the definition sets it (never replacing an existing mapping), else where
    /// the kernel chooses. Like libbpf, right after creation: programs using the arena load only
    /// once its user-space address is set.
    pub(super) fn map_arena(&mut self) -> Result<(), MapError> {
        if self.def.map_type != bpf_map_type::BPF_MAP_TYPE_ARENA || self.arena.is_some() {
            return Ok(());
        }
        let len = arena_size(&self.def)
            .and_then(|len| usize::try_from(len).ok())
            .filter(|&len| len > 0)
            .ok_or_else(|| MapError::InvalidDefinition {
                name: self.name.clone(),
                reason: format!(
                    "an arena of {} pages cannot be mapped",
                    self.def.max_entries
                ),
            })?;
        let address = (self.def.map_extra != 0).then_some(self.def.map_extra);
        let region = MmapRegion::new_at(self.fd(), len, address, true).map_err(|e| {
            match (address, e.errno()) {
                (Some(address), Some(libc::EEXIST)) => MapError::ArenaAddressInUse {
                    name: self.name.clone(),
                    address,
                    len,
                },
                _ => syscall(&self.name, e),
            }
        })?;
        self.arena = Some(region);
        Ok(())
    }

    /// Writes the object's `__arena` globals at `offset` of the arena's mapping (which faults
    /// their pages in, so programs' allocations never hand them out) and records their
    /// variables at their place in the arena.
    pub(crate) fn place_arena_data(
        &mut self,
        offset: u64,
        arena_data: &obj::ArenaData,
    ) -> Result<(), MapError> {
        let name = self.name.clone();
        let size = self.arena.as_ref().map_or(0, MmapRegion::len);
        let out_of_bounds = || MapError::ArenaOutOfBounds {
            name: name.clone(),
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            len: arena_data.data.len(),
            size,
        };
        let start = usize::try_from(offset).map_err(|_| out_of_bounds())?;
        let region = self
            .arena
            .as_mut()
            .ok_or_else(|| MapError::ArenaNotMapped { name: name.clone() })?;
        region
            .write(start, &arena_data.data)
            .ok_or_else(out_of_bounds)?;
        self.variables = arena_data
            .variables
            .iter()
            .map(|v| {
                let offset =
                    u32::try_from(offset + u64::from(v.offset)).map_err(|_| out_of_bounds())?;
                Ok(obj::Variable {
                    offset,
                    ..v.clone()
                })
            })
            .collect::<Result<_, MapError>>()?;
        Ok(())
    }

    /// An arena's mapping, if this handle has it.
    pub(crate) fn arena_region(&self) -> Option<&MmapRegion> {
        self.arena.as_ref()
    }

    /// An arena's mapping, mutably.
    pub(crate) fn arena_region_mut(&mut self) -> Option<&mut MmapRegion> {
        self.arena.as_mut()
    }
}
