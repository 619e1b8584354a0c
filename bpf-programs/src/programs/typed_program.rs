//! [`TypedProgram`]: the one struct behind every typed program (`KProbe`, `Xdp`, ...), with what
//! every type shares written once; a type's module adds its kind and its `attach`.

use std::fmt;
use std::path::Path;

use bpf_sys::VerifierLog;

use super::data::{ProgramData, ProgramFd};
use super::error::ProgramError;
use super::info::ProgramInfo;
use super::links::Link;
use super::load_flags::ProgramLoadFlags;
use super::test_run::{TestRunOptions, TestRunOutput};

/// What makes a program type: the link its `attach` returns and how it loads. Implemented by
/// the marker types of this module's program types (`KProbeKind` for [`KProbe`](super::KProbe),
/// ...); nothing outside this crate needs to name it.
pub trait ProgramKind: Sized + 'static {
    /// The link `attach` returns, owned by the program until detached or taken.
    type Link: Link;

    /// How `load()`, [`Program::load`](super::Program::load) and `attach_all` load a program of
    /// this kind: as relocated, unless the kind first sets an attach target (tp_btf, fentry,
    /// lsm, iter, struct_ops) or cannot load without arguments (freplace).
    fn load(program: &mut TypedProgram<Self>) -> Result<(), ProgramError> {
        program.data.load()
    }
}

/// Kinds whose `load()` takes no arguments: all but freplace, which needs its target program
/// (`Extension::load(target, function)`).
pub trait LoadWithoutArguments: ProgramKind {}

/// A program of kind `K`; each program type is an alias (`pub type KProbe =
/// TypedProgram<KProbeKind>`), so its methods are these and those of its kind's `impl` block.
pub struct TypedProgram<K: ProgramKind> {
    pub(crate) data: ProgramData<K::Link>,
}

impl<K: ProgramKind> fmt::Debug for TypedProgram<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = std::any::type_name::<K>().rsplit("::").next().unwrap_or("");
        f.debug_struct("TypedProgram")
            .field("kind", &kind)
            .field("data", &self.data)
            .finish()
    }
}

impl<K: LoadWithoutArguments> TypedProgram<K> {
    /// Relocates the program for the running kernel and loads it (with the target its section
    /// names, for the types that need one).
    pub fn load(&mut self) -> Result<(), ProgramError> {
        K::load(self)
    }
}

impl<K: ProgramKind> TypedProgram<K> {
    pub(crate) fn new(data: ProgramData<K::Link>) -> Self {
        TypedProgram { data }
    }

    /// Loads the way its kind loads without arguments (what `Program::load` does).
    pub(crate) fn load_as_kind(&mut self) -> Result<(), ProgramError> {
        K::load(self)
    }

    /// The program's name (its function's name in the object).
    pub fn name(&self) -> &str {
        self.data.name()
    }

    /// The program's fd, once loaded.
    pub fn fd(&self) -> Result<&ProgramFd, ProgramError> {
        self.data.fd()
    }

    /// The kernel's view of the loaded program.
    pub fn info(&self) -> Result<ProgramInfo, ProgramError> {
        self.data.info()
    }

    /// Pins the loaded program at `path` (inside bpffs).
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), ProgramError> {
        self.data.pin(path.as_ref())
    }

    /// Removes the pin made by [`pin`](Self::pin).
    pub fn unpin(&mut self) -> Result<(), ProgramError> {
        self.data.unpin()
    }

    /// Opens a program of this type pinned at `path`; it can be attached but not reloaded.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Self, ProgramError> {
        Ok(TypedProgram {
            data: ProgramData::from_pin(path.as_ref())?,
        })
    }

    /// Detaches every link and unloads the program (the kernel frees it once unreferenced).
    pub fn unload(&mut self) -> Result<(), ProgramError> {
        self.data.unload()
    }

    /// Detaches the link `link_id` returned by `attach`.
    pub fn detach(&mut self, link_id: <K::Link as Link>::Id) -> Result<(), ProgramError> {
        self.data.links.remove(&self.data.name, link_id)
    }

    /// Takes ownership of a link so that it outlives the program (it detaches on drop).
    pub fn take_link(&mut self, link_id: <K::Link as Link>::Id) -> Result<K::Link, ProgramError> {
        self.data.links.take(&self.data.name, link_id)
    }

    /// Runs the loaded program on the input of `options` under `BPF_PROG_TEST_RUN` (see
    /// [`TestRunOptions`]); types the kernel cannot test-run give
    /// [`TestRunError::NotSupported`](super::TestRunError::NotSupported).
    pub fn test_run(&self, options: TestRunOptions<'_>) -> Result<TestRunOutput, ProgramError> {
        self.data.test_run(options)
    }

    /// Sets the load flags of the next load, added to those the section implies (see
    /// [`ProgramLoadFlags`]).
    pub fn set_load_flags(&mut self, flags: ProgramLoadFlags) {
        self.data.set_load_flags(flags)
    }

    /// The load flags set with [`set_load_flags`](Self::set_load_flags) or by the loader.
    pub fn load_flags(&self) -> ProgramLoadFlags {
        self.data.load_flags()
    }

    /// What the verifier said at the last load (empty unless a log level was set).
    pub fn verifier_log(&self) -> &VerifierLog {
        &self.data.verifier_log
    }

    /// Shared program state (section, fd, links).
    pub fn data(&self) -> &ProgramData<K::Link> {
        &self.data
    }

    /// Shared program state, mutably (e.g. to set the verifier log level).
    pub fn data_mut(&mut self) -> &mut ProgramData<K::Link> {
        &mut self.data
    }
}
