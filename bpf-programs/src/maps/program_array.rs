//! Program arrays for tail calls: `BPF_MAP_TYPE_PROG_ARRAY`.

use bpf_sys::generated::bpf_map_type;

use super::fd_array::FdArray;
use super::kind::sealed::Sealed;
use super::kind::{FdArrayKind, MapKind};

/// Tail-call targets by index (`BPF_MAP_TYPE_PROG_ARRAY`): `bpf_tail_call(ctx, map, index)`.
///
/// Every method is [`FdArray`]'s.
///
/// # Example
///
/// ```no_run
/// use std::os::fd::AsFd;
///
/// use bpf_programs::Bpf;
/// use bpf_programs::maps::ProgramArray;
///
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// bpf.program_mut("handle_tcp").unwrap().load()?;
/// let handler = bpf.program("handle_tcp").unwrap().fd()?.try_clone()?;
/// let mut jumps = ProgramArray::try_from(bpf.map_mut("jump_table").unwrap())?;
/// jumps.set(6, handler.as_fd(), 0)?; // bpf_tail_call(ctx, &jump_table, 6) now runs it
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ProgramArray<T> = FdArray<T, ProgramArrayKind>;

/// The kind of [`ProgramArray`]: which kernel map types it accepts and creates.
#[derive(Debug)]
pub enum ProgramArrayKind {}

impl Sealed for ProgramArrayKind {}
impl FdArrayKind for ProgramArrayKind {}
impl MapKind for ProgramArrayKind {
    const CREATES: bpf_map_type::Type = bpf_map_type::BPF_MAP_TYPE_PROG_ARRAY;
    const NAME: &'static str = "ProgramArray";
}
