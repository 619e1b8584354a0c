//! [`OpenBpf`]: an object parsed but not loaded, libbpf's open → configure → load. Its programs
//! (in the object's order, with section, type and autoload) and map definitions (type, sizes,
//! flags, pinning, inner map) can be read and changed before any kernel object exists;
//! [`OpenBpf::load`] then creates the maps.

use std::collections::HashMap;
use std::ops::Deref;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use bpf_core::obj::{self, MapDef, Object, Pinning, ProgramSection, SetGlobalError};
use bpf_sys::pod::{Pod, bytes_of};

use crate::loader::TargetBtf;
use crate::programs::{ProgramLoadFlags, VerifierLogLevel};

/// What loading needs besides the object: where CO-RE points, maps given by the caller, where
/// pins go, how much the verifier says.
#[derive(Debug, Default)]
pub(crate) struct LoadSettings {
    pub(crate) target_btf: TargetBtf,
    pub(crate) reused_maps: HashMap<String, OwnedFd>,
    pub(crate) map_pin_path: Option<PathBuf>,
    pub(crate) log_level: VerifierLogLevel,
    pub(crate) load_flags: ProgramLoadFlags,
}

/// An opened object: parsed, nothing created in the kernel yet.
///
/// ```no_run
/// use bpf_programs::Bpf;
///
/// let mut open = Bpf::open_file("prog.bpf.o")?;
/// for program in open.programs() {
///     println!("{} in {} (autoload {})", program.name, program.section_name, program.autoload);
/// }
/// // Maps left to user space to size, as libbpf-tools' stack maps are.
/// let to_size: Vec<String> = open
///     .maps()
///     .filter(|map| map.def.max_entries == 0)
///     .map(|map| map.name.clone())
///     .collect();
/// for name in &to_size {
///     open.map_mut(name).unwrap().set_max_entries(1024);
/// }
/// open.program_mut("debug_only").unwrap().set_autoload(false);
/// let mut bpf = open.load()?;      // maps created now
/// bpf.load_all()?;                 // programs whose autoload is on
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OpenBpf {
    pub(crate) object: Object,
    pub(crate) settings: LoadSettings,
}

impl OpenBpf {
    pub(crate) fn new(object: Object, settings: LoadSettings) -> OpenBpf {
        OpenBpf { object, settings }
    }

    /// The parsed object, for what the accessors here do not show (functions, externs, BTF).
    pub fn object(&self) -> &Object {
        &self.object
    }

    /// The programs, in the object's order.
    pub fn programs(&self) -> impl Iterator<Item = &obj::Program> {
        self.object.programs.iter()
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&obj::Program> {
        self.object.program(name)
    }

    /// The program named `name`, to change before load.
    pub fn program_mut(&mut self, name: &str) -> Option<OpenProgramMut<'_>> {
        self.object
            .programs
            .iter_mut()
            .find(|p| p.name == name)
            .map(|program| OpenProgramMut { program })
    }

    /// The programs, in the object's order, to change before load.
    pub fn programs_mut(&mut self) -> impl Iterator<Item = OpenProgramMut<'_>> {
        self.object
            .programs
            .iter_mut()
            .map(|program| OpenProgramMut { program })
    }

    /// The map definitions, in the object's order (global data maps are named after their
    /// section, e.g. `.rodata`).
    pub fn maps(&self) -> impl Iterator<Item = &obj::Map> {
        self.object.maps.iter()
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&obj::Map> {
        self.object.map(name)
    }

    /// The map named `name`, to change its definition before it is created.
    pub fn map_mut(&mut self, name: &str) -> Option<OpenMapMut<'_>> {
        let map = self.object.maps.iter_mut().find(|m| m.name == name)?;
        Some(OpenMapMut {
            map,
            reused_maps: &mut self.settings.reused_maps,
        })
    }

    /// Sets global variable `name` (in `.rodata`, `.data` or `.bss`); `.rodata` constants are
    /// then seen by the verifier as constants.
    pub fn set_global<T: Pod>(&mut self, name: &str, value: &T) -> Result<(), SetGlobalError> {
        self.set_global_bytes(name, bytes_of(value))
    }

    /// Sets global variable `name` from raw bytes (exactly the variable's size).
    pub fn set_global_bytes(&mut self, name: &str, value: &[u8]) -> Result<(), SetGlobalError> {
        self.object.set_global(name, value)
    }

    /// Directory for maps declared with pinning by name (default `/sys/fs/bpf`).
    pub fn set_map_pin_path(&mut self, path: impl AsRef<Path>) {
        self.settings.map_pin_path = Some(path.as_ref().to_owned());
    }

    /// Verifier log level for every program of the object.
    pub fn set_verifier_log_level(&mut self, level: VerifierLogLevel) {
        self.settings.log_level = level;
    }

    /// Load flags for every program of the object (see
    /// [`BpfLoader::load_flags`](crate::BpfLoader::load_flags)).
    pub fn set_load_flags(&mut self, flags: ProgramLoadFlags) {
        self.settings.load_flags = flags;
    }
}

/// A program of an [`OpenBpf`], to change before load; reads through to the parsed program.
#[derive(Debug)]
pub struct OpenProgramMut<'a> {
    program: &'a mut obj::Program,
}

impl OpenProgramMut<'_> {
    /// Whether [`Bpf::load_all`](crate::Bpf::load_all) and
    /// [`Bpf::attach_all`](crate::Bpf::attach_all) take the program (libbpf's
    /// `bpf_program__set_autoload`); off by default for `SEC("?...")` programs.
    pub fn set_autoload(&mut self, autoload: bool) {
        self.program.autoload = autoload;
    }

    /// Treats the program as coming from another section: another type, attach type or
    /// target (libbpf's `bpf_program__set_type`, `set_expected_attach_type`,
    /// `set_attach_target`), e.g. `ProgramSection::parse("kprobe/do_sys_openat2")`.
    pub fn set_section(&mut self, section: ProgramSection) {
        self.program.section = section;
    }
}

impl Deref for OpenProgramMut<'_> {
    type Target = obj::Program;

    fn deref(&self) -> &obj::Program {
        self.program
    }
}

/// A map of an [`OpenBpf`], to change before it is created; reads through to the parsed map.
#[derive(Debug)]
pub struct OpenMapMut<'a> {
    map: &'a mut obj::Map,
    reused_maps: &'a mut HashMap<String, OwnedFd>,
}

impl OpenMapMut<'_> {
    /// Sets `max_entries` (libbpf's `bpf_map__set_max_entries`).
    pub fn set_max_entries(&mut self, max_entries: u32) {
        self.map.def.max_entries = max_entries;
    }

    /// Sets `value_size` (libbpf's `bpf_map__set_value_size`), e.g. a stack trace map's to
    /// `depth * 8`; the declared value type no longer describes the value and is dropped.
    pub fn set_value_size(&mut self, value_size: u32) {
        self.map.def.value_size = value_size;
        self.map.def.value_type_id = None;
    }

    /// Sets `key_size`; the declared key type is dropped.
    pub fn set_key_size(&mut self, key_size: u32) {
        self.map.def.key_size = key_size;
        self.map.def.key_type_id = None;
    }

    /// Sets the map type (`BPF_MAP_TYPE_*`).
    pub fn set_map_type(&mut self, map_type: u32) {
        self.map.def.map_type = map_type;
    }

    /// Sets `map_flags` (`BPF_F_*`).
    pub fn set_map_flags(&mut self, map_flags: u32) {
        self.map.def.map_flags = map_flags;
    }

    /// Sets `map_extra`: a bloom filter's hash count, an arena's address.
    pub fn set_map_extra(&mut self, map_extra: u64) {
        self.map.def.map_extra = map_extra;
    }

    /// Sets the NUMA node the map is allocated on.
    pub fn set_numa_node(&mut self, numa_node: Option<u32>) {
        self.map.def.numa_node = numa_node;
    }

    /// Pins the map by name under the pin directory, or not.
    pub fn set_pinning(&mut self, pinning: Pinning) {
        self.map.def.pinning = pinning;
    }

    /// The definition of a map-in-map's inner map template, to change it.
    pub fn inner_mut(&mut self) -> Option<&mut MapDef> {
        self.map.def.inner.as_deref_mut()
    }

    /// The whole definition, for what the setters do not cover.
    pub fn def_mut(&mut self) -> &mut MapDef {
        &mut self.map.def
    }

    /// Uses the existing map `fd` instead of creating one (libbpf's `bpf_map__reuse_fd`); it
    /// must match the definition.
    pub fn reuse_fd(&mut self, fd: OwnedFd) {
        self.reused_maps.insert(self.map.name.clone(), fd);
    }
}

impl Deref for OpenMapMut<'_> {
    type Target = obj::Map;

    fn deref(&self) -> &obj::Map {
        self.map
    }
}
