//! [`Bpf`] and [`BpfLoader`]: open an object, create its maps, hand out its programs.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpf_core::obj::Object;
use bpf_sys::pod::{Pod, bytes_of};

pub use crate::loader::BpfError;
use crate::loader::{LoadSession, MapSettings, TargetBtf};
use crate::maps::Map;
use crate::open::{LoadSettings, OpenBpf};
use crate::programs::{Program, ProgramError, ProgramLoadFlags, VerifierLogLevel};
use crate::struct_ops::{StructOps, StructOpsError, StructOpsLink};

/// Builder for [`Bpf`]: globals, map overrides, pin path, BTF target, verifier log level.
#[derive(Debug, Default)]
pub struct BpfLoader {
    target_btf: TargetBtf,
    globals: Vec<(String, Vec<u8>)>,
    max_entries: HashMap<String, u32>,
    value_sizes: HashMap<String, u32>,
    map_extras: HashMap<String, u64>,
    reused_maps: HashMap<String, OwnedFd>,
    map_pin_path: Option<PathBuf>,
    log_level: VerifierLogLevel,
    load_flags: ProgramLoadFlags,
}

impl BpfLoader {
    /// A loader with defaults: kernel BTF, pins under `/sys/fs/bpf`, no verifier log.
    pub fn new() -> BpfLoader {
        BpfLoader::default()
    }

    /// Sets what CO-RE relocations target.
    pub fn target_btf(&mut self, target: TargetBtf) -> &mut Self {
        self.target_btf = target;
        self
    }

    /// Sets global variable `name` (in `.rodata`, `.data` or `.bss`) before the maps are
    /// created; `.rodata` constants are then seen by the verifier as constants.
    pub fn set_global<T: Pod>(&mut self, name: &str, value: &T) -> &mut Self {
        self.set_global_bytes(name, bytes_of(value))
    }

    /// Sets global variable `name` from raw bytes (must be exactly the variable's size).
    pub fn set_global_bytes(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.globals.push((name.to_owned(), value.to_vec()));
        self
    }

    /// Overrides the `max_entries` of map `name`.
    pub fn set_max_entries(&mut self, name: &str, max_entries: u32) -> &mut Self {
        self.max_entries.insert(name.to_owned(), max_entries);
        self
    }

    /// Overrides the `value_size` of map `name` (libbpf's `bpf_map__set_value_size`): stack
    /// trace maps are commonly declared without one and sized by user space to the wanted
    /// stack depth (`depth * sizeof(u64)`).
    pub fn set_value_size(&mut self, name: &str, value_size: u32) -> &mut Self {
        self.value_sizes.insert(name.to_owned(), value_size);
        self
    }

    /// Overrides the `map_extra` of map `name` (libbpf's `bpf_map__set_map_extra`): a bloom
    /// filter's hash count, an arena's address.
    pub fn set_map_extra(&mut self, name: &str, map_extra: u64) -> &mut Self {
        self.map_extras.insert(name.to_owned(), map_extra);
        self
    }

    /// Uses the existing map `fd` for the object's map `name` instead of creating one (libbpf's
    /// `bpf_map__reuse_fd`), e.g. to share a map between two objects: `fd` is duplicated at
    /// each load and must match the map's definition.
    pub fn reuse_map(&mut self, name: &str, fd: OwnedFd) -> &mut Self {
        self.reused_maps.insert(name.to_owned(), fd);
        self
    }

    /// Directory for maps declared with pinning by name (default `/sys/fs/bpf`).
    pub fn map_pin_path(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.map_pin_path = Some(path.as_ref().to_owned());
        self
    }

    /// Verifier log level for every program of the object.
    pub fn verifier_log_level(&mut self, level: VerifierLogLevel) -> &mut Self {
        self.log_level = level;
        self
    }

    /// Load flags for every program of the object, added to those each section implies;
    /// a program's own [`set_load_flags`](crate::programs::Program::set_load_flags) replaces
    /// them for that program.
    ///
    /// ```no_run
    /// use bpf_programs::BpfLoader;
    /// use bpf_programs::programs::ProgramLoadFlags;
    ///
    /// let mut bpf = BpfLoader::new()
    ///     .load_flags(ProgramLoadFlags::STRICT_ALIGNMENT | ProgramLoadFlags::TEST_RND_HI32)
    ///     .load_file("prog.bpf.o")?;
    /// bpf.load_all()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_flags(&mut self, flags: ProgramLoadFlags) -> &mut Self {
        self.load_flags = flags;
        self
    }

    /// Reads and parses the object at `path` and applies this loader's settings; nothing is
    /// created in the kernel until [`OpenBpf::load`].
    pub fn open_file(&mut self, path: impl AsRef<Path>) -> Result<OpenBpf, BpfError> {
        let path = path.as_ref();
        // Mapped, as libbpf does: parsing copies out what it keeps, and fresh heap pages for a
        // whole copy cost more than the parse.
        let bytes = bpf_sys::file_map::FileBytes::read(path).map_err(|source| BpfError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.open(bytes.as_slice())
    }

    /// Parses an object and applies this loader's settings (globals, map overrides); nothing
    /// is created in the kernel until [`OpenBpf::load`].
    pub fn open(&mut self, bytes: &[u8]) -> Result<OpenBpf, BpfError> {
        let mut object = Object::parse(bytes)?;
        for (name, value) in &self.globals {
            object
                .set_global(name, value)
                .map_err(|source| BpfError::SetGlobal {
                    name: name.clone(),
                    source,
                })?;
        }
        for (name, &max_entries) in &self.max_entries {
            object_map(&mut object, name)?.def.max_entries = max_entries;
        }
        for (name, &map_extra) in &self.map_extras {
            object_map(&mut object, name)?.def.map_extra = map_extra;
        }
        for (name, &value_size) in &self.value_sizes {
            let map = object_map(&mut object, name)?;
            map.def.value_size = value_size;
            // The declared value type no longer describes the value.
            map.def.value_type_id = None;
        }
        let mut reused_maps = HashMap::new();
        for (name, fd) in &self.reused_maps {
            object_map(&mut object, name)?;
            let fd = fd.try_clone().map_err(|source| BpfError::DupFd {
                name: name.clone(),
                source,
            })?;
            reused_maps.insert(name.clone(), fd);
        }
        let settings = LoadSettings {
            target_btf: self.target_btf.clone(),
            reused_maps,
            map_pin_path: self.map_pin_path.clone(),
            log_level: self.log_level,
            load_flags: self.load_flags,
        };
        Ok(OpenBpf::new(object, settings))
    }

    /// Reads and opens the object at `path`: [`open_file`](Self::open_file), then
    /// [`OpenBpf::load`].
    pub fn load_file(&mut self, path: impl AsRef<Path>) -> Result<Bpf, BpfError> {
        self.open_file(path)?.load()
    }

    /// Opens an object: parses it, creates its maps; programs load on their `load()` (or all
    /// at once with [`Bpf::load_all`]).
    pub fn load(&mut self, bytes: &[u8]) -> Result<Bpf, BpfError> {
        self.open(bytes)?.load()
    }
}

impl OpenBpf {
    /// Creates the object's maps (writing global data, freezing `.rodata`, pinning and reusing
    /// as configured) and hands out its programs, which load on their `load()` or with
    /// [`Bpf::load_all`].
    pub fn load(self) -> Result<Bpf, BpfError> {
        let OpenBpf {
            mut object,
            settings,
        } = self;
        crate::loader::fill_kconfig(&mut object);

        let arena_data_offset = crate::loader::arena_data_offset(&object)?;
        let btf = crate::loader::load_object_btf(&object);
        let pin_dir = settings
            .map_pin_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::kernel::fs::BPFFS));
        let map_settings = MapSettings {
            reused: &settings.reused_maps,
            pin_dir: &pin_dir,
            btf_fd: btf.as_ref().map(|b| b.fd.as_fd()),
            arena_data_offset,
        };
        let maps = crate::loader::create_maps(&map_settings, &object)?;
        let struct_ops = StructOps::create_all(&object, btf.as_ref().map(|b| b.fd.as_fd()));
        let context = Arc::new(LoadSession::new(
            object,
            maps.values().map(Map::data),
            arena_data_offset,
            btf,
            settings.target_btf,
        )?);
        let log_section = context.object.log_section.clone();
        let mut programs = BTreeMap::new();
        for program in &context.object.programs {
            let data = crate::programs::data_for(
                program.name.clone(),
                program.section.clone(),
                Arc::clone(&context),
                settings.log_level,
                settings.load_flags,
            );
            programs.insert(program.name.clone(), Program::from_section(data));
        }
        Ok(Bpf {
            maps,
            programs,
            struct_ops,
            log_section,
        })
    }
}

/// The object's map `name`, which a loader setting names.
fn object_map<'o>(
    object: &'o mut Object,
    name: &str,
) -> Result<&'o mut bpf_core::obj::Map, BpfError> {
    object
        .maps
        .iter_mut()
        .find(|m| m.name == name)
        .ok_or_else(|| BpfError::NoSuchMap {
            name: name.to_owned(),
        })
}

/// An opened object: its maps (created) and programs (loaded on demand).
#[derive(Debug)]
pub struct Bpf {
    maps: BTreeMap<String, Map>,
    programs: BTreeMap<String, Program>,
    struct_ops: BTreeMap<String, StructOps>,
    log_section: Option<bpf_core::log::LogSection>,
}

impl Bpf {
    /// Parses the object file at `path` with default settings, to inspect and change its
    /// programs and maps before [`OpenBpf::load`].
    pub fn open_file(path: impl AsRef<Path>) -> Result<OpenBpf, BpfError> {
        BpfLoader::new().open_file(path)
    }

    /// Parses an object from its bytes with default settings (see [`Bpf::open_file`]).
    pub fn open(bytes: &[u8]) -> Result<OpenBpf, BpfError> {
        BpfLoader::new().open(bytes)
    }

    /// Opens the object file at `path` with default settings.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Bpf, BpfError> {
        BpfLoader::new().load_file(path)
    }

    /// Opens an object from its bytes with default settings.
    pub fn load(bytes: &[u8]) -> Result<Bpf, BpfError> {
        BpfLoader::new().load(bytes)
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.get(name)
    }

    /// The program named `name`, mutably (to load and attach it).
    pub fn program_mut(&mut self, name: &str) -> Option<&mut Program> {
        self.programs.get_mut(name)
    }

    /// All programs, by name.
    pub fn programs(&self) -> impl Iterator<Item = (&str, &Program)> {
        self.programs.iter().map(|(n, p)| (n.as_str(), p))
    }

    /// All programs, by name, mutably.
    pub fn programs_mut(&mut self) -> impl Iterator<Item = (&str, &mut Program)> {
        self.programs.iter_mut().map(|(n, p)| (n.as_str(), p))
    }

    /// Loads every program whose autoload is on (libbpf's `bpf_object__load`): all but
    /// `SEC("?...")` programs and those turned off with
    /// [`set_autoload`](Program::set_autoload); programs already loaded stay as they are.
    /// Stops at the first failure, whose error names the program; returns the names of the
    /// programs it loaded, in name order.
    pub fn load_all(&mut self) -> Result<Vec<String>, ProgramError> {
        let mut loaded = Vec::new();
        for (name, program) in &mut self.programs {
            if program.autoload() && program.fd().is_err() {
                program.load()?;
                loaded.push(name.clone());
            }
        }
        Ok(loaded)
    }

    /// Loads and attaches every program whose section names its target (libbpf's skeleton
    /// `attach()`), skipping `SEC("?...")` programs and those whose type needs arguments (see
    /// [`Program::attach_from_section`]). Stops at the first failure, whose error names the
    /// program; returns the names of the programs attached, in name order.
    pub fn attach_all(&mut self) -> Result<Vec<String>, ProgramError> {
        let mut attached = Vec::new();
        for (name, program) in &mut self.programs {
            if program.autoload() && program.attach_from_section()? {
                attached.push(name.clone());
            }
        }
        Ok(attached)
    }

    /// Like [`attach_all`](Self::attach_all), but tries every program and reports each one's
    /// outcome instead of stopping at the first failure: for objects carrying alternatives (an
    /// fentry program and its kprobe twin) of which the kernel takes only some.
    pub fn attach_each(&mut self) -> Vec<(String, Result<bool, ProgramError>)> {
        self.programs
            .iter_mut()
            .filter(|(_, program)| program.autoload())
            .map(|(name, program)| (name.clone(), program.attach_from_section()))
            .collect()
    }

    /// Removes program `name` from the object and returns it.
    pub fn take_program(&mut self, name: &str) -> Option<Program> {
        self.programs.remove(name)
    }

    /// The `bpf_log.h` call sites of the object (section `.bpf_log`), for
    /// [`BpfLogger`](crate::logger::BpfLogger).
    pub fn log_section(&self) -> Option<&bpf_core::log::LogSection> {
        self.log_section.as_ref()
    }

    /// The map named `name` (global data maps are named after their section, e.g. `.rodata`).
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.get(name)
    }

    /// The map named `name`, mutably.
    pub fn map_mut(&mut self, name: &str) -> Option<&mut Map> {
        self.maps.get_mut(name)
    }

    /// All maps, by name.
    pub fn maps(&self) -> impl Iterator<Item = (&str, &Map)> {
        self.maps.iter().map(|(n, m)| (n.as_str(), m))
    }

    /// Removes map `name` from the object and returns it (programs keep working).
    pub fn take_map(&mut self, name: &str) -> Option<Map> {
        self.maps.remove(name)
    }

    /// The struct_ops map named `name` (`.struct_ops` / `.struct_ops.link` variables).
    pub fn struct_ops(&self, name: &str) -> Option<&StructOps> {
        self.struct_ops.get(name)
    }

    /// The struct_ops map named `name`, mutably.
    pub fn struct_ops_mut(&mut self, name: &str) -> Option<&mut StructOps> {
        self.struct_ops.get_mut(name)
    }

    /// All struct_ops maps, by name (including those the kernel could not take).
    pub fn struct_ops_maps(&self) -> impl Iterator<Item = (&str, &StructOps)> {
        self.struct_ops.iter().map(|(n, m)| (n.as_str(), m))
    }

    /// Loads the programs struct_ops map `name` points at (those not loaded yet) and registers
    /// the struct with the kernel; dropping the returned link unregisters it.
    pub fn register_struct_ops(&mut self, name: &str) -> Result<StructOpsLink, StructOpsError> {
        let ops = self
            .struct_ops
            .get_mut(name)
            .ok_or_else(|| StructOpsError::NoSuchMap {
                map: name.to_owned(),
            })?;
        ops.register(&mut self.programs)
    }

    /// Switches a struct_ops link registration (of this object or another) over to struct_ops
    /// map `name` of this object, loading its programs first (`.struct_ops.link` maps, 6.4+).
    pub fn update_struct_ops_link(
        &mut self,
        link: &mut StructOpsLink,
        name: &str,
    ) -> Result<(), StructOpsError> {
        let ops = self
            .struct_ops
            .get_mut(name)
            .ok_or_else(|| StructOpsError::NoSuchMap {
                map: name.to_owned(),
            })?;
        ops.take_over(link, &mut self.programs)
    }
}
