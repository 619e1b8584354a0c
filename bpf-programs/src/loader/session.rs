//! [`LoadSession`]: what the programs of one object share while they load — the parsed object,
//! second handles on its maps, its BTF in the kernel, the CO-RE target and the kernel's answers
//! for its externs — and the steps of a program's load that need them: relocation and filling
//! the prog-array slots that name the program.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::OnceLock;

use bpf_core::btf::core::CoreTarget;
use bpf_core::obj::{Object, SlotTarget};
use bpf_core::relocation::{Bindings, MapReference, RelocatedProgram, RelocationError};

use super::btf::{LoadedBtf, TargetBtf, core_target};
use super::error::BpfError;
use super::externs::{KernelExterns, lookup_externs};
use crate::kernel::KernelFactError;
use crate::maps::{MapData, MapError};

/// Why a step of a program's load that the session does failed; the program wraps it with
/// its name.
#[derive(Debug)]
pub(crate) enum SessionError {
    /// Relocating the program's instructions.
    Relocation(RelocationError),
    /// Reading the CO-RE target BTF.
    CoreTarget(KernelFactError),
    /// Looking up the object's externs in the kernel's BTF.
    KernelBtf(KernelFactError),
    /// Writing the program's fd into slot `index` of a prog array.
    ProgramSlot { index: u32, source: MapError },
}

/// The load session of one object.
#[derive(Debug)]
pub(crate) struct LoadSession {
    pub(crate) object: Object,
    /// Second handles on the object's maps, so programs stay loadable after `take_map`.
    maps: HashMap<String, MapData>,
    /// Where the `__arena` globals sit in the object's arena map.
    arena_data_offset: Option<u64>,
    pub(crate) btf: Option<LoadedBtf>,
    target_btf: TargetBtf,
    /// Computed on the first load that needs it.
    core_target: OnceLock<Result<CoreTarget, KernelFactError>>,
    /// Kernel symbols and kfuncs for the object's externs, looked up on the first load.
    externs: OnceLock<Result<KernelExterns, KernelFactError>>,
}

impl LoadSession {
    /// A session over the object's created `maps`.
    pub(crate) fn new<'m>(
        object: Object,
        maps: impl IntoIterator<Item = &'m MapData>,
        arena_data_offset: Option<u64>,
        btf: Option<LoadedBtf>,
        target_btf: TargetBtf,
    ) -> Result<LoadSession, BpfError> {
        let maps = maps
            .into_iter()
            .map(|map| {
                let name = map.name().to_owned();
                match map.try_clone() {
                    Ok(clone) => Ok((name, clone)),
                    Err(MapError::Io { source, .. }) => Err(BpfError::DupFd { name, source }),
                    Err(source) => Err(BpfError::Map { name, source }),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(LoadSession {
            object,
            maps,
            arena_data_offset,
            btf,
            target_btf,
            core_target: OnceLock::new(),
            externs: OnceLock::new(),
        })
    }

    /// The object's map `name`, as created for this load.
    pub(crate) fn map(&self, name: &str) -> Option<&MapData> {
        self.maps.get(name)
    }

    fn core_target(&self) -> Result<CoreTarget, SessionError> {
        self.core_target
            .get_or_init(|| core_target(&self.target_btf))
            .clone()
            .map_err(SessionError::CoreTarget)
    }

    /// The program's instructions with maps, externs and (for programs with CO-RE records)
    /// the target BTF's layout filled in, relocated once.
    pub(crate) fn relocate(&self, program: &str) -> Result<RelocatedProgram, SessionError> {
        let mut bindings = self.bindings()?;
        // The target BTF is read only for programs that have CO-RE relocations.
        if self.object.has_core_relocations(program) {
            bindings.core_target = Some(self.core_target()?);
        }
        self.object
            .relocate(program, &bindings)
            .map_err(SessionError::Relocation)
    }

    /// The object's maps and the kernel's answers for its externs.
    fn bindings(&self) -> Result<Bindings, SessionError> {
        let mut bindings = Bindings {
            arena_data_offset: self.arena_data_offset,
            ..Bindings::default()
        };
        for (name, map) in &self.maps {
            bindings
                .maps
                .insert(name.clone(), MapReference::Fd(map.fd().as_raw_fd()));
        }
        // Looked up once per object; unresolved ones are reported by relocation, and only for
        // programs that use them.
        let externs = self
            .externs
            .get_or_init(|| lookup_externs(&self.object))
            .as_ref()
            .map_err(|source| SessionError::KernelBtf(source.clone()))?;
        bindings.ksyms.clone_from(&externs.bindings.ksyms);
        bindings.kfuncs.clone_from(&externs.bindings.kfuncs);
        Ok(bindings)
    }

    /// The `fd_array` loads of this object pass (module BTF objects of its kfuncs).
    pub(crate) fn fd_array(&self) -> Vec<BorrowedFd<'_>> {
        match self.externs.get() {
            Some(Ok(externs)) => externs.fd_array(),
            _ => Vec::new(),
        }
    }

    /// Fills the prog-array slots (`.values` initialisers) that name `program` with its `fd`.
    pub(crate) fn fill_program_slots(
        &self,
        program: &str,
        fd: BorrowedFd<'_>,
    ) -> Result<(), SessionError> {
        for map in &self.object.maps {
            let Some(prog_array) = self.maps.get(&map.name) else {
                continue;
            };
            for slot in &map.initial_slots {
                if !matches!(&slot.target, SlotTarget::Program(name) if name == program) {
                    continue;
                }
                prog_array.set_fd_slot(slot.index, fd).map_err(|source| {
                    SessionError::ProgramSlot {
                        index: slot.index,
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }
}
