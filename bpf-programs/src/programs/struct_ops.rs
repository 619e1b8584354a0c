//! `struct_ops/<name>`, `struct_ops.s/<name>`: programs implementing one member of a kernel
//! struct (e.g. `tcp_congestion_ops.cong_avoid`). They are not attached one by one: the
//! struct_ops map pointing at them is registered ([`crate::struct_ops`]).

pub use bpf_core::obj::StructOpsProgramError;

use super::ProgramError;
use super::links::{FdLink, define_link_wrapper};
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// Never created: struct_ops programs take effect through their map's registration.
    StructOpsProgramLink,
    StructOpsProgramLinkId,
    FdLink
);

/// A `struct_ops` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
///
/// // SEC(".struct_ops.link") struct tcp_congestion_ops my_cc = { .cong_avoid = ..., ... };
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// // Loads the programs the struct points at and registers it; dropping the link unregisters.
/// let link = bpf.register_struct_ops("my_cc")?;
/// # drop(link);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type StructOpsProgram = TypedProgram<StructOpsProgramKind>;

/// The kind of [`StructOpsProgram`] programs.
#[derive(Debug)]
pub enum StructOpsProgramKind {}

impl ProgramKind for StructOpsProgramKind {
    type Link = StructOpsProgramLink;

    /// Loads the program for the struct member the object's struct_ops maps set it to (the
    /// kernel wants that struct's BTF id and the member's index); a program no map uses, or
    /// whose map the kernel cannot take, fails here with the reason.
    fn load(program: &mut StructOpsProgram) -> Result<(), ProgramError> {
        let Some(context) = &program.data.context else {
            return Err(ProgramError::NoInstructions {
                program: program.data.name().to_owned(),
            });
        };
        let kernel = crate::kernel::btf::vmlinux().map_err(|source| ProgramError::KernelBtf {
            program: program.data.name().to_owned(),
            source,
        })?;
        let attach = context
            .object
            .struct_ops_attach(program.data.name(), &kernel)?;
        program.data.attach_btf_id = Some(attach.type_id);
        program.data.expected_attach_type = Some(attach.member_index);
        program.data.load()
    }
}

impl LoadWithoutArguments for StructOpsProgramKind {}
