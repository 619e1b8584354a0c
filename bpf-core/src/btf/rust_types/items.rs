//! The items Rust generation writes, as laid out from BTF and before they are rendered.

/// One generated item.
#[derive(Debug, Clone)]
pub(super) enum Item {
    Struct(StructItem),
    Union(UnionItem),
    Enum(EnumItem),
    Alias {
        name: String,
        c_name: String,
        target: String,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Field {
    pub name: String,
    pub ty: String,
    /// Byte offset.
    pub offset: u32,
    /// Alignment Rust gives `ty`.
    pub align: u32,
    /// A member of the C type (asserted), not padding or bitfield storage.
    pub is_member: bool,
}

/// A bitfield read and written through methods.
#[derive(Debug, Clone)]
pub(super) struct Bitfield {
    /// Getter name; the setter is `set_<name>`.
    pub name: String,
    /// The byte-array field holding it.
    pub storage: String,
    /// Bytes of that field used, from `storage_start`.
    pub storage_start: u32,
    pub storage_len: u32,
    /// First bit within those bytes (little-endian bit order) and width.
    pub shift: u32,
    pub width: u32,
    pub value: BitfieldValue,
}

/// What a bitfield's getter returns.
#[derive(Debug, Clone)]
pub(super) enum BitfieldValue {
    Bool,
    /// An integer type (`u32`, `i8`, ...), signed or not.
    Int {
        ty: String,
        signed: bool,
    },
    /// An enum newtype over the integer `repr`.
    Enum {
        ty: String,
        repr: String,
    },
}

#[derive(Debug, Clone)]
pub(super) struct StructItem {
    pub name: String,
    pub c_name: String,
    pub size: u32,
    pub packed: bool,
    /// Zero-sized field raising the alignment to the C type's (`[u32; 0]`), when the fields alone
    /// would give less (a struct of bitfields only).
    pub align_field: Option<String>,
    pub fields: Vec<Field>,
    pub bitfields: Vec<Bitfield>,
}

/// A union member read and written by value.
#[derive(Debug, Clone)]
pub(super) struct UnionMember {
    pub name: String,
    pub ty: String,
    pub size: u32,
}

#[derive(Debug, Clone)]
pub(super) struct UnionItem {
    pub name: String,
    pub c_name: String,
    pub size: u32,
    pub align_field: Option<String>,
    pub members: Vec<UnionMember>,
    pub bitfields: Vec<Bitfield>,
}

#[derive(Debug, Clone)]
pub(super) struct EnumItem {
    pub name: String,
    pub c_name: String,
    pub repr: String,
    /// Enumerator names and values as Rust literals of `repr`.
    pub values: Vec<(String, String)>,
}
