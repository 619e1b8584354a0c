//! Extern symbols: `__kconfig` values, `__ksym` kernel variables and kfuncs.

/// How a `__kconfig` extern's value is stored, from its BTF type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KconfigType {
    /// `bool`: `y`/`m` → 1, `n` → 0.
    Bool,
    /// `enum libbpf_tristate`: `n` → 0, `y` → 1, `m` → 2 (4 bytes).
    Tristate,
    /// `char`: the value's first character (`y`, `m`, `n`).
    Char,
    /// An integer of `size` bytes.
    Int { size: u32, signed: bool },
    /// `char[len]`: a quoted string value, NUL-padded.
    CharArray { len: u32 },
}

impl KconfigType {
    /// Bytes the value occupies in the `.kconfig` map.
    pub fn size(self) -> u32 {
        match self {
            KconfigType::Bool | KconfigType::Char => 1,
            KconfigType::Tristate => 4,
            KconfigType::Int { size, .. } => size,
            KconfigType::CharArray { len } => len,
        }
    }
}

/// What an extern refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternKind {
    /// A kernel config value stored at `offset` in the `.kconfig` map.
    Kconfig { ty: KconfigType, offset: u32 },
    /// A kernel variable with a BTF type (`extern const int x __ksym;`): needs its kernel BTF id.
    TypedKsym { type_id: u32 },
    /// A kernel symbol without type (`extern const void x __ksym;`): needs its address.
    TypelessKsym,
    /// A kernel function called from the program: needs its kernel BTF id.
    Kfunc { type_id: u32 },
    /// Not described by BTF: decided by how instructions use it (call → kfunc, load → address).
    Untyped,
}

/// An undefined symbol the program refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extern {
    pub name: String,
    pub kind: ExternKind,
    /// A weak extern resolves to zero when the kernel lacks it.
    pub weak: bool,
    /// A strong `__kconfig` extern the kernel's config has no value for: programs that read
    /// it fail to relocate, the others load.
    pub value_missing: bool,
}
