//! BTF-enabled tracepoints (`tp_btf/<name>`): typed tracepoint arguments.

use bpf_sys::generated::bpf_attach_type;

use bpf_core::btf::BtfKind;

use super::btf_target::{attach_tracing, load_for_target};
use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::BtfTracePointError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};
use super::{ProgramError, ProgramSection};

define_link_wrapper!(
    /// A `tp_btf` attachment.
    BtfTracePointLink,
    BtfTracePointLinkId,
    FdLink
);

/// A `tp_btf` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::BtfTracePoint;
///
/// // SEC("tp_btf/sched_switch") int on_switch(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut BtfTracePoint = bpf.program_mut("on_switch").unwrap().try_into()?;
/// program.load()?; // the target comes from the section, found in the kernel's BTF
/// program.attach()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type BtfTracePoint = TypedProgram<BtfTracePointKind>;

/// The kind of [`BtfTracePoint`] programs.
#[derive(Debug)]
pub enum BtfTracePointKind {}

impl ProgramKind for BtfTracePointKind {
    type Link = BtfTracePointLink;

    /// Loads the program for the tracepoint named in its section.
    fn load(program: &mut BtfTracePoint) -> Result<(), ProgramError> {
        let name = match program.data.section() {
            Some(ProgramSection::BtfTracePoint { name: Some(name) }) => name.clone(),
            _ => {
                return Err(BtfTracePointError::NoTarget {
                    program: program.data.name().to_owned(),
                }
                .into());
            }
        };
        program.load_target(&name)
    }
}

impl LoadWithoutArguments for BtfTracePointKind {}

impl BtfTracePoint {
    /// Loads the program for tracepoint `name` (e.g. `sched_switch`).
    pub fn load_target(&mut self, name: &str) -> Result<(), ProgramError> {
        let program = self.data.name().to_owned();
        load_for_target(
            &mut self.data,
            &format!("btf_trace_{name}"),
            BtfKind::Typedef,
            || {
                BtfTracePointError::NotFound {
                    program,
                    name: name.to_owned(),
                }
                .into()
            },
        )
    }

    /// Attaches at the tracepoint chosen at load.
    pub fn attach(&mut self) -> Result<BtfTracePointLinkId, ProgramError> {
        let link = attach_tracing(&self.data, bpf_attach_type::BPF_TRACE_RAW_TP, 0)?;
        Ok(self.data.links.insert(BtfTracePointLink::new(link)))
    }
}
