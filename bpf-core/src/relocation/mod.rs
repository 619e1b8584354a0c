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

mod core;
mod data;
mod error;
mod link;

use std::collections::HashMap;

use bpf_sys::generated::{bpf_func_info, bpf_insn, bpf_line_info};

pub use error::{RelocationError, RelocationErrorKind};

use crate::btf::core::{CoreTarget, PoisonedRelo};
use crate::obj::Object;

/// How instructions refer to a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapReference {
    /// A map fd (`BPF_PSEUDO_MAP_FD` / `BPF_PSEUDO_MAP_VALUE`).
    Fd(i32),
    /// An index into the `fd_array` given at load (`BPF_PSEUDO_MAP_IDX` / `BPF_PSEUDO_MAP_IDX_VALUE`).
    FdArrayIndex(i32),
}

/// A resolved `__ksym` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsymValue {
    /// Kernel BTF id of the variable and fd of the BTF object holding it (0 for vmlinux).
    BtfId { btf_id: u32, btf_obj_fd: i32 },
    /// Address of a typeless ksym (from `/proc/kallsyms`).
    Address(u64),
}

/// A resolved kfunc: kernel BTF id, and for a module's kfunc the `fd_array` index (calls) and
/// fd (address loads) of the module's BTF object; both 0 for vmlinux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KfuncValue {
    pub btf_id: u32,
    pub fd_array_index: i16,
    pub btf_obj_fd: i32,
}

/// Kernel facts a program's relocation needs, all plain data.
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    /// Every map the program references, by [`Map::name`](crate::obj::Map::name).
    pub maps: HashMap<String, MapReference>,
    /// `__ksym` variables by name; absent weak ones resolve to 0.
    pub ksyms: HashMap<String, KsymValue>,
    /// kfuncs by name; calls to absent weak ones are poisoned (rejected only if reachable).
    pub kfuncs: HashMap<String, KfuncValue>,
    /// BTF that CO-RE relocations are resolved against (vmlinux + modules). `None` leaves the
    /// compiled offsets in place.
    pub core_target: Option<CoreTarget>,
    /// Byte offset of the `__arena` globals (`.addr_space.1`) inside the object's arena map, as
    /// [`Object::arena_data_offset`] computes it from the arena's size and the page size.
    /// Needed only by programs referencing `__arena` globals.
    pub arena_data_offset: Option<u64>,
}

/// A program ready for `BPF_PROG_LOAD`.
#[derive(Debug, Clone)]
pub struct RelocatedProgram {
    pub name: String,
    pub insns: Vec<bpf_insn>,
    /// `insn_off` is an instruction index in `insns`.
    pub func_info: Vec<bpf_func_info>,
    pub line_info: Vec<bpf_line_info>,
    pub func_info_rec_size: u32,
    pub line_info_rec_size: u32,
    /// Names of the maps the instructions reference, sorted.
    pub maps: Vec<String>,
    /// The functions linked into the program and the instruction each starts at.
    pub functions: Vec<(String, usize)>,
    /// CO-RE relocations the target could not satisfy, by function (`insn_index` relative to
    /// it); their instructions call an invalid helper, rejected by the verifier if reachable.
    pub core_poisoned: Vec<(String, PoisonedRelo)>,
}

impl RelocatedProgram {
    /// The instructions as the bytes `BPF_PROG_LOAD` takes.
    pub fn insn_bytes(&self) -> Vec<u8> {
        crate::obj::insn::encode(&self.insns)
    }

    /// func_info records as bytes of `func_info_rec_size` each.
    pub fn func_info_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.func_info.len() * 8);
        for record in &self.func_info {
            out.extend_from_slice(&record.insn_off.to_ne_bytes());
            out.extend_from_slice(&record.type_id.to_ne_bytes());
        }
        out
    }

    /// line_info records as bytes of `line_info_rec_size` each.
    pub fn line_info_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.line_info.len() * 16);
        for record in &self.line_info {
            for field in [
                record.insn_off,
                record.file_name_off,
                record.line_off,
                record.line_col,
            ] {
                out.extend_from_slice(&field.to_ne_bytes());
            }
        }
        out
    }
}

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
