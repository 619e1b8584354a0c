//! Instruction relocations: maps and global data, bpf-to-bpf calls, externs, CO-RE.
//!
//! [`relocate`] turns one program of an [`Object`] into loadable instructions: it collects the
//! functions reachable from the entry point (calls and callback pointers), appends them after the
//! entry function, fixes call offsets and func/line info, and patches every map, global data and
//! extern reference with the kernel facts given in [`Bindings`]. Other programs are not touched.
//!
//! A loader: parses the [`Object`], sets globals (`Object::set_global`) and kconfig values
//! (`Object::fill_kconfig`), loads `object.btf` (already fixed up; sanitise for old kernels),
//! creates each [`Map`](crate::obj::Map) with its initial `data` (freezing `frozen()` ones),
//! then per program fills [`Bindings`] (map fds by name, ksym/kfunc ids, `core_target` from
//! vmlinux BTF), calls [`relocate`] and loads [`RelocatedProgram::insns`] with its func/line info;
//! finally writes `initial_slots` of prog arrays and map-in-maps.

mod bindings;
mod calls;
mod core;
mod data;
mod error;
mod link;
mod relocated;
mod site;

pub use bindings::{Bindings, KfuncValue, KsymValue, MapReference};
pub use error::{RelocationError, RelocationErrorKind};
pub use relocated::RelocatedProgram;

use crate::obj::Object;

/// Relocates program `program` of `object` with the given kernel facts.
pub fn relocate(
    object: &Object,
    program: &str,
    bindings: &Bindings,
) -> Result<RelocatedProgram, RelocationError> {
    link::link_program(object, program, bindings)
}

impl Object {
    /// Relocates one program; see [`relocate`].
    pub fn relocate(
        &self,
        program: &str,
        bindings: &Bindings,
    ) -> Result<RelocatedProgram, RelocationError> {
        relocate(self, program, bindings)
    }
}
