//! The kernel facts a program's relocation needs: map references, ksyms, kfuncs, CO-RE target.

use std::collections::HashMap;

use crate::btf::core::CoreTarget;

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
    /// [`Object::arena_data_offset`](crate::obj::Object::arena_data_offset) computes it from the arena's size and the page size.
    /// Needed only by programs referencing `__arena` globals.
    pub arena_data_offset: Option<u64>,
}
