//! Flags that the UAPI defines in anonymous enums, under stable paths.
//!
//! bindgen numbers anonymous enums (`_bindgen_ty_N`); these re-exports keep callers off
//! those names, and a regeneration that renumbers them fails to compile here.

/// Map element update flags: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`.
pub mod update {
    pub use crate::generated::_bindgen_ty_4::*;
}

/// Map creation (and object open) flags: `BPF_F_NO_PREALLOC`, `BPF_F_MMAPABLE`,
/// `BPF_F_RDONLY_PROG`, `BPF_F_INNER_MAP`, `BPF_F_RDONLY`, `BPF_F_WRONLY`, `BPF_F_TOKEN_FD`, ….
pub mod map {
    pub use crate::generated::_bindgen_ty_5::*;
}

/// `BPF_F_KPROBE_MULTI_RETURN`.
pub use crate::generated::_bindgen_ty_2::BPF_F_KPROBE_MULTI_RETURN;
/// `BPF_F_UPROBE_MULTI_RETURN`.
pub use crate::generated::_bindgen_ty_3::BPF_F_UPROBE_MULTI_RETURN;
