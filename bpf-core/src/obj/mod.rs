//! The ELF object model: programs, functions, maps, global data and externs.
//!
//! [`Object::parse`] reads the bytes of an object built by `clang -target bpf` for libbpf and
//! keeps everything the loader and [`relocation`](crate::relocation) need, without a syscall.

mod arena;
mod btf_externs;
mod btf_fixup;
mod btf_maps;
mod code;
mod elf_file;
mod error;
mod ext_records;
mod externs;
mod function;
mod globals;
pub mod insn;
mod kconfig;
mod maps;
mod object;
mod parse;
mod program;
mod section;
mod struct_ops;
mod struct_ops_attach;
mod struct_ops_layout;
mod struct_ops_maps;
mod symbol;

pub use arena::{ARENA_SECTION, ArenaData, ArenaPlacementError};
pub use error::ParseError;
pub use externs::{Extern, ExternKind, KconfigType};
pub use function::{CoreRelocation, Function, FunctionId, InsnRelocation};
pub use globals::SetGlobalError;
pub use kconfig::{KconfigError, parse_kconfig};
pub use maps::{DataKind, Map, MapDef, MapKind, MapSlot, Pinning, SlotTarget, Variable};
pub use object::Object;
pub use program::Program;
pub use section::{ProgramSection, Tracepoint, UprobeTarget, UsdtTarget};
pub use struct_ops::{StructOps, StructOpsMember};
pub use struct_ops_attach::{StructOpsAttach, StructOpsProgramError};
pub use struct_ops_layout::{
    StructOpsDataMember, StructOpsLayout, StructOpsLayoutError, StructOpsProgramSlot,
};
pub use symbol::{Binding, Symbol, SymbolKind};
