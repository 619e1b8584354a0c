//! Map definitions: BTF-defined (`.maps`), legacy (`maps`) and global data sections.

use bpf_sys::generated::bpf_map_type;

use super::ParseError;

/// How a map is pinned, as declared in the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pinning {
    #[default]
    None,
    /// Pinned under its name in the loader's pin directory (`LIBBPF_PIN_BY_NAME`).
    ByName,
    /// A value this library does not interpret.
    Other(u32),
}

impl Pinning {
    pub(crate) fn from_raw(value: u32) -> Pinning {
        match value {
            0 => Pinning::None,
            // iproute2's PIN_GLOBAL_NS (2) also pins by name, in a shared directory.
            1 | 2 => Pinning::ByName,
            other => Pinning::Other(other),
        }
    }
}

/// Which kind of global data section a data map stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// `.data`, `.data.*`
    Data,
    /// `.rodata`, `.rodata.*`: read-only for programs, frozen after initialisation.
    Rodata,
    /// `.bss`, `.bss.*`: zero-initialised.
    Bss,
}

/// Where a map was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// A BTF-defined map in `.maps`.
    Btf,
    /// A `struct bpf_map_def` (or iproute2 `struct bpf_elf_map`) in `maps`.
    Legacy,
    /// A global data section turned into a one-element array.
    Data(DataKind),
    /// The synthesized `.kconfig` map holding `__kconfig` extern values.
    Kconfig,
    /// A struct_ops map (`.struct_ops`, `.struct_ops.link`); see [`Map::struct_ops`].
    StructOps,
}

/// The attributes a map is created with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MapDef {
    pub map_type: bpf_map_type::Type,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// NUMA node requested (the loader adds `BPF_F_NUMA_NODE`).
    pub numa_node: Option<u32>,
    pub map_extra: u64,
    pub pinning: Pinning,
    /// BTF type ids of key and value when the object declared them by type.
    pub key_type_id: Option<u32>,
    pub value_type_id: Option<u32>,
    /// Kernel BTF id of a struct_ops map's value type (`bpf_struct_ops_<name>`), set by the
    /// loader from the kernel's layout of the struct before the map is created.
    pub btf_vmlinux_value_type_id: Option<u32>,
    /// Template of the inner map of a map-in-map (`__array(values, struct inner)`).
    pub inner: Option<Box<MapDef>>,
    /// iproute2 `bpf_elf_map` id (records of 28 or 36 bytes).
    pub legacy_id: Option<u32>,
}

/// What a `.values` slot of a prog array or map-in-map is initialised with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotTarget {
    Program(String),
    Map(String),
}

/// One statically initialised slot: `map[index] = target` after creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSlot {
    pub index: u32,
    pub target: SlotTarget,
}

/// A variable inside a global data map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub offset: u32,
    pub size: u32,
}

/// A map of the object.
#[derive(Debug, Clone)]
pub struct Map {
    /// Symbol name for declared maps, section name (`.rodata`, `.data.foo`, `.kconfig`) for data.
    pub name: String,
    pub kind: MapKind,
    pub def: MapDef,
    /// ELF section the map lives in (`None` for `.kconfig`).
    pub section_index: Option<usize>,
    /// Byte offset of the definition within its section.
    pub section_offset: u64,
    /// Initial value of global data (`value_size` bytes); empty for other maps.
    pub data: Vec<u8>,
    pub variables: Vec<Variable>,
    pub initial_slots: Vec<MapSlot>,
    /// For struct_ops maps: the kernel struct and which members point at which programs.
    pub struct_ops: Option<super::StructOps>,
}

impl Map {
    /// Whether the loader must freeze the map after writing its initial value.
    pub fn frozen(&self) -> bool {
        matches!(
            self.kind,
            MapKind::Data(DataKind::Rodata) | MapKind::Kconfig
        )
    }

    /// Whether the map carries initial contents to write at creation.
    pub fn has_initial_data(&self) -> bool {
        matches!(self.kind, MapKind::Data(_) | MapKind::Kconfig)
    }

    /// A global variable of this data map by name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// The kind of a global data section name, if it is one.
pub(crate) fn data_kind(section_name: &str) -> Option<DataKind> {
    let is = |base: &str| {
        section_name == base
            || section_name
                .strip_prefix(base)
                .is_some_and(|r| r.starts_with('.'))
    };
    if is(".data") {
        Some(DataKind::Data)
    } else if is(".rodata") {
        Some(DataKind::Rodata)
    } else if is(".bss") {
        Some(DataKind::Bss)
    } else {
        None
    }
}

/// A one-element array map holding a global data section.
pub(crate) fn data_map(
    name: &str,
    kind: MapKind,
    section_index: Option<usize>,
    data: Vec<u8>,
) -> Map {
    let mut map_flags = BPF_F_MMAPABLE;
    if matches!(kind, MapKind::Data(DataKind::Rodata) | MapKind::Kconfig) {
        map_flags |= BPF_F_RDONLY_PROG;
    }
    Map {
        name: name.to_owned(),
        kind,
        def: MapDef {
            map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY,
            key_size: 4,
            value_size: u32::try_from(data.len()).unwrap_or(u32::MAX),
            max_entries: 1,
            map_flags,
            ..MapDef::default()
        },
        section_index,
        section_offset: 0,
        data,
        variables: Vec::new(),
        initial_slots: Vec::new(),
        struct_ops: None,
    }
}

// Map flags from an anonymous UAPI enum (bindgen gives it no stable name).
pub(crate) const BPF_F_RDONLY_PROG: u32 = 1 << 7;
pub(crate) const BPF_F_MMAPABLE: u32 = 1 << 10;

/// Smallest legacy record accepted: type, key_size, value_size, max_entries.
const LEGACY_MIN_RECORD: usize = 16;

fn read_u32(bytes: &[u8], field: usize) -> u32 {
    let start = field * 4;
    bytes
        .get(start..start + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

/// Parses the legacy `maps` section: one record per symbol, the record size being the section size
/// divided by the number of symbols (so any `struct bpf_map_def` extension is accepted).
pub(crate) fn parse_legacy_maps(
    section_name: &str,
    section_index: usize,
    data: &[u8],
    symbols: &[(String, u64)],
) -> Result<Vec<Map>, ParseError> {
    let size = data.len();
    let bad_size = || ParseError::MapsSectionSize {
        section: section_name.to_owned(),
        size: size as u64,
        symbols: symbols.len(),
        min: LEGACY_MIN_RECORD,
    };
    if symbols.is_empty() {
        return if size == 0 {
            Ok(Vec::new())
        } else {
            Err(bad_size())
        };
    }
    if !size.is_multiple_of(symbols.len()) || size / symbols.len() < LEGACY_MIN_RECORD {
        return Err(bad_size());
    }
    let record_size = size / symbols.len();
    let iproute2 = record_size == 28 || record_size == 36;
    let mut maps = Vec::with_capacity(symbols.len());
    for (name, offset) in symbols {
        let record = usize::try_from(*offset)
            .ok()
            .filter(|o| o % record_size == 0)
            .and_then(|o| data.get(o..o.checked_add(record_size)?))
            .ok_or_else(|| ParseError::Map {
                map: name.clone(),
                section: section_name.to_owned(),
                reason: format!("offset {offset} is not the start of a {record_size}-byte record"),
            })?;
        let mut def = MapDef {
            map_type: read_u32(record, 0),
            key_size: read_u32(record, 1),
            value_size: read_u32(record, 2),
            max_entries: read_u32(record, 3),
            map_flags: read_u32(record, 4),
            ..MapDef::default()
        };
        if iproute2 {
            def.legacy_id = Some(read_u32(record, 5));
            def.pinning = Pinning::from_raw(read_u32(record, 6));
        }
        maps.push(Map {
            name: name.clone(),
            kind: MapKind::Legacy,
            def,
            section_index: Some(section_index),
            section_offset: *offset,
            data: Vec::new(),
            variables: Vec::new(),
            initial_slots: Vec::new(),
            struct_ops: None,
        });
    }
    Ok(maps)
}
