//! Creating an object's maps for a load: each map reused (an fd the user gave), opened or
//! created at its pin, or created new; `__arena` globals placed; map-in-map slots filled once
//! all exist. A failed load removes the pins it made.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use bpf_core::obj::{self, MapKind, Object, Pinning, SlotTarget};

use super::error::BpfError;
use crate::maps::{Map, MapData, MapError};

/// What a load needs to create the object's maps.
pub(crate) struct MapSettings<'a> {
    /// Fds the user gave for maps by name: used instead of creating them.
    pub(crate) reused: &'a HashMap<String, OwnedFd>,
    /// Where maps pinned by name live.
    pub(crate) pin_dir: &'a Path,
    /// The object's BTF as loaded into the kernel.
    pub(crate) btf_fd: Option<BorrowedFd<'a>>,
    /// Where the `__arena` globals go in the arena map.
    pub(crate) arena_data_offset: Option<u64>,
}

/// A map as this load got it.
struct Made {
    data: MapData,
    /// Whether the map existed before (reused fd or pin): it keeps its contents.
    kept: bool,
}

/// Creates the object's maps (struct_ops maps apart), then fills their map-in-map slots.
pub(crate) fn create_maps(
    settings: &MapSettings<'_>,
    object: &Object,
) -> Result<BTreeMap<String, Map>, BpfError> {
    let mut created: BTreeMap<String, Map> = BTreeMap::new();
    let mut new_pins = NewPins(Vec::new());
    // Created apart (`StructOps::create_all`): they need the kernel's layout.
    for map in object.maps.iter().filter(|m| m.kind != MapKind::StructOps) {
        let map_error = |source| BpfError::Map {
            name: map.name.clone(),
            source,
        };
        let mut made = match (settings.reused.get(&map.name), map.def.pinning) {
            (Some(fd), _) => reuse_map(map, fd)?,
            (None, Pinning::ByName) => {
                pinned_map(settings, map, &mut new_pins).map_err(map_error)?
            }
            (None, _) => new_map(settings, map).map_err(map_error)?,
        };
        place_arena_globals(settings, object, map, &mut made).map_err(map_error)?;
        created.insert(map.name.clone(), Map::from(made.data));
    }
    fill_map_slots(object, &created)?;
    new_pins.0.clear();
    Ok(created)
}

/// The map the user gave an fd for.
fn reuse_map(map: &obj::Map, fd: &OwnedFd) -> Result<Made, BpfError> {
    let fd = fd.try_clone().map_err(|source| BpfError::DupFd {
        name: map.name.clone(),
        source,
    })?;
    let data = MapData::reuse(fd, map, &map.name).map_err(|source| BpfError::Map {
        name: map.name.clone(),
        source,
    })?;
    Ok(Made { data, kept: true })
}

/// The map pinned by name: opened where the pin exists, else created and pinned (the pin is
/// noted in `new_pins`, removed if the load fails).
fn pinned_map(
    settings: &MapSettings<'_>,
    map: &obj::Map,
    new_pins: &mut NewPins,
) -> Result<Made, MapError> {
    let path = settings.pin_dir.join(&map.name);
    let existed = path.exists();
    let data = with_btf_fallback(settings.btf_fd, |btf| {
        MapData::create_or_open_pinned(map, &map.name, btf, &path)
    })?;
    if !existed {
        new_pins.0.push(path);
    }
    Ok(Made {
        data,
        kept: existed,
    })
}

/// A map created for this load.
fn new_map(settings: &MapSettings<'_>, map: &obj::Map) -> Result<Made, MapError> {
    let data = with_btf_fallback(settings.btf_fd, |btf| MapData::create(map, &map.name, btf))?;
    Ok(Made { data, kept: false })
}

/// `__arena` globals start out with the object's values in a new arena; a reused or pinned
/// one keeps what it holds (libbpf does the same).
fn place_arena_globals(
    settings: &MapSettings<'_>,
    object: &Object,
    map: &obj::Map,
    made: &mut Made,
) -> Result<(), MapError> {
    let (Some(offset), Some(arena_data), true) = (
        settings.arena_data_offset,
        &object.arena_data,
        map.is_arena(),
    ) else {
        return Ok(());
    };
    if !made.kept {
        return made.data.place_arena_data(offset, arena_data);
    }
    if let Some(region) = made.data.arena_region() {
        log::debug!(
            "arena `{}` reused at {:#x}; its globals keep their values",
            map.name,
            region.address()
        );
    }
    Ok(())
}

/// Fills map-in-map slots, which name other maps of the object, once all exist.
fn fill_map_slots(object: &Object, created: &BTreeMap<String, Map>) -> Result<(), BpfError> {
    for map in &object.maps {
        for slot in &map.initial_slots {
            let SlotTarget::Map(target) = &slot.target else {
                continue;
            };
            let slot_error = |reason: String| BpfError::MapSlot {
                map: map.name.clone(),
                index: slot.index,
                target: target.clone(),
                reason,
            };
            let inner = created
                .get(target)
                .ok_or_else(|| slot_error("no such map".to_owned()))?;
            let outer = created
                .get(&map.name)
                .ok_or_else(|| slot_error("outer map was not created".to_owned()))?;
            outer
                .data()
                .set_fd_slot(slot.index, inner.data().fd().as_fd())
                .map_err(|e| slot_error(crate::ErrorChain(&e).to_string()))?;
        }
    }
    Ok(())
}

/// Where the object's `__arena` globals go inside its arena map (libbpf's placement: the end of
/// the arena, in whole pages); `None` without `__arena` globals or without exactly one arena
/// (relocating a reference to them then fails with a located error).
pub(crate) fn arena_data_offset(object: &Object) -> Result<Option<u64>, BpfError> {
    let mut arenas = object.arena_maps();
    let (Some(arena), None) = (arenas.next(), arenas.next()) else {
        return Ok(None);
    };
    let size = crate::maps::map_data::arena_size(&arena.def).unwrap_or(u64::MAX);
    object
        .arena_data_offset(size, bpf_sys::util::page_size() as u64)
        .map_err(|e| BpfError::Map {
            name: arena.name.clone(),
            source: MapError::InvalidDefinition {
                name: arena.name.clone(),
                reason: e.to_string(),
            },
        })
}

/// Creates a map with the object's BTF, and again without it when the kernel refuses the BTF
/// for this map (some map types reject key/value types, e.g. with ENOTSUPP).
fn with_btf_fallback(
    btf_fd: Option<BorrowedFd<'_>>,
    create: impl Fn(Option<BorrowedFd<'_>>) -> Result<MapData, MapError>,
) -> Result<MapData, MapError> {
    match create(btf_fd) {
        Err(e) if btf_fd.is_some() && e.errno().is_some() => {
            log::debug!(
                "map creation with BTF failed ({}); retrying without BTF",
                crate::ErrorChain(&e)
            );
            create(None)
        }
        other => other,
    }
}

/// Pins made by a load that failed are removed, so a failed load leaves nothing behind.
struct NewPins(Vec<PathBuf>);

impl Drop for NewPins {
    fn drop(&mut self) {
        for path in &self.0 {
            if let Err(e) = std::fs::remove_file(path) {
                log::warn!("removing pin {} after a failed load: {e}", path.display());
            }
        }
    }
}
