//! struct_ops maps (`.struct_ops`, `.struct_ops.link`): a kernel struct whose function pointer
//! members are set to programs of the object.

/// `BPF_F_LINK`: the struct_ops map is registered through a bpf_link.
pub(crate) const BPF_F_LINK: u32 = 1 << 13;

/// A function pointer member of a struct_ops map set to a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsMember {
    /// Member name in the struct (e.g. `ssthresh`).
    pub name: String,
    /// Byte offset of the member in the object's layout of the struct.
    pub offset: u32,
    pub program: String,
}

/// What the loader needs to build a struct_ops map value from the kernel's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOps {
    /// Name of the kernel struct (e.g. `tcp_congestion_ops`).
    pub type_name: String,
    /// Its id in the object's BTF.
    pub type_id: u32,
    /// Declared in `.struct_ops.link`: attach with a link rather than on map update.
    pub link: bool,
    pub members: Vec<StructOpsMember>,
}

pub(crate) fn is_struct_ops_section(name: &str) -> bool {
    name == ".struct_ops" || name.starts_with(".struct_ops.")
}
