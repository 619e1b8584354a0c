//! Loading an object: its BTF into the kernel and the CO-RE target (`btf`), its maps created
//! per kind (reused, pinned, new: `maps`), its externs from the running kernel (`externs`), and
//! the session its programs share while they load (`session`). Below programs and maps' users:
//! it uses `maps` and `kernel`, and `programs` use it.

mod btf;
mod error;
mod externs;
mod maps;
mod session;

pub use btf::TargetBtf;
pub(crate) use btf::load_object_btf;
pub use error::BpfError;
pub(crate) use externs::fill_kconfig;
pub(crate) use maps::{MapSettings, arena_data_offset, create_maps};
pub(crate) use session::{LoadSession, SessionError};
