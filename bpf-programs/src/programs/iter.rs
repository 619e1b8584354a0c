//! BPF iterators (`iter/<target>`, e.g. `iter/task`): a link, then readable instances.

use std::fs::File;
use std::os::fd::AsFd;

use bpf_sys::generated::bpf_attach_type;
use bpf_sys::link::{IterTarget, LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::misc::iter_create;

use bpf_core::btf::BtfKind;

use super::btf_target::load_for_target;
use super::links::{FdLink, Link, next_link_number};
pub use super::type_errors::IterError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};

/// Id of an [`IterLink`] owned by its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IterLinkId(u64);

impl std::fmt::Display for IterLinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An iterator link: each [`open`](IterLink::open) starts a new walk.
#[derive(Debug)]
pub struct IterLink {
    id: IterLinkId,
    link: FdLink,
}

impl IterLink {
    /// A new instance of the iterator; reading it runs the program over the target.
    pub fn open(&self) -> Result<File, ProgramError> {
        let fd = iter_create(self.link.fd(), 0).map_err(ProgramError::syscall("iter create"))?;
        Ok(File::from(fd))
    }

    /// The underlying link.
    pub fn inner(&self) -> &FdLink {
        &self.link
    }

    /// Gives up the wrapper.
    pub fn into_inner(self) -> FdLink {
        self.link
    }
}

impl Link for IterLink {
    type Id = IterLinkId;

    fn id(&self) -> IterLinkId {
        self.id
    }

    fn detach(self) -> Result<(), ProgramError> {
        self.link.detach()
    }
}

/// An `iter` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Iter;
/// use std::io::Read;
///
/// // SEC("iter/task") int dump_tasks(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Iter = bpf.program_mut("dump_tasks").unwrap().try_into()?;
/// program.load()?;
/// let link = program.attach()?;
/// let link = program.take_link(link)?;
/// let mut text = String::new();
/// link.open()?.read_to_string(&mut text)?; // each read runs the program over every task
/// print!("{text}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Iter = TypedProgram<IterKind>;

/// The kind of [`Iter`] programs.
#[derive(Debug)]
pub enum IterKind {}

impl ProgramKind for IterKind {
    type Link = IterLink;

    /// Loads the program for the iterator target named in its section.
    fn load(program: &mut Iter) -> Result<(), ProgramError> {
        let target = match program.data.section() {
            Some(ProgramSection::Iter {
                target: Some(target),
                ..
            }) => target.clone(),
            _ => {
                return Err(IterError::NoTarget {
                    program: program.data.name().to_owned(),
                }
                .into());
            }
        };
        program.load_target(&target)
    }
}

impl LoadWithoutArguments for IterKind {}

impl Iter {
    /// Loads the program for iterator `target` (e.g. `task`, `bpf_map_elem`).
    pub fn load_target(&mut self, target: &str) -> Result<(), ProgramError> {
        let program = self.data.name().to_owned();
        load_for_target(
            &mut self.data,
            &format!("bpf_iter_{target}"),
            BtfKind::Func,
            || {
                IterError::TargetNotFound {
                    program,
                    target: target.to_owned(),
                }
                .into()
            },
        )
    }

    /// Creates the iterator link (over all objects of the target kind).
    pub fn attach(&mut self) -> Result<IterLinkId, ProgramError> {
        self.attach_with(None)
    }

    /// Creates the iterator link with parameters (one map, task, or cgroup).
    pub fn attach_with(
        &mut self,
        target: Option<IterTarget<'_>>,
    ) -> Result<IterLinkId, ProgramError> {
        let fd = self.data.fd()?;
        let link = link_create(&LinkCreateAttr {
            prog_fd: fd.as_fd(),
            target: LinkTarget::None,
            attach_type: bpf_attach_type::BPF_TRACE_ITER,
            flags: 0,
            kind: LinkKind::Iter(target),
        })
        .map_err(self.data.syscall_error("iterator link create"))?;
        Ok(self.data.links.insert(IterLink {
            id: IterLinkId(next_link_number()),
            link: FdLink::new(link),
        }))
    }

    /// Opens an instance of the iterator behind link `link_id`.
    pub fn open(&self, link_id: IterLinkId) -> Result<File, ProgramError> {
        self.data.links.get(&self.data.name, link_id)?.open()
    }
}
