//! Typed views of BTF type records, decoded on demand from the raw bytes.

use super::error::BtfError;
use super::parse::{Btf, read_u32};

/// The kind of a BTF type (`BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BtfKind {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

impl BtfKind {
    /// Decodes the kind bits of a type's `info` word.
    pub fn from_raw(raw: u32) -> Option<Self> {
        use BtfKind::*;
        Some(match raw {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }

    /// The `BTF_KIND_*` value.
    pub fn raw(self) -> u32 {
        self as u32
    }

    /// Size in bytes of the data following the 12-byte common header, for `vlen` entries.
    pub(crate) fn extra_len(self, vlen: u32) -> usize {
        use BtfKind::*;
        let vlen = vlen as usize;
        match self {
            Int | Var | DeclTag => 4,
            Array => 12,
            Struct | Union | Datasec | Enum64 => 12 * vlen,
            Enum | FuncProto => 8 * vlen,
            _ => 0,
        }
    }

    /// True for kinds that only qualify another type (typedef, cv-qualifiers, type tags).
    pub fn is_modifier(self) -> bool {
        matches!(
            self,
            BtfKind::Typedef
                | BtfKind::Volatile
                | BtfKind::Const
                | BtfKind::Restrict
                | BtfKind::TypeTag
        )
    }
}

/// `BTF_INT_*` encoding bits.
pub mod int_encoding {
    pub const SIGNED: u8 = 1;
    pub const CHAR: u8 = 2;
    pub const BOOL: u8 = 4;
}

/// Linkage of a `FUNC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncLinkage {
    Static,
    Global,
    Extern,
    Unknown(u16),
}

impl FuncLinkage {
    pub fn from_raw(raw: u16) -> Self {
        match raw {
            0 => FuncLinkage::Static,
            1 => FuncLinkage::Global,
            2 => FuncLinkage::Extern,
            n => FuncLinkage::Unknown(n),
        }
    }
    pub fn raw(self) -> u16 {
        match self {
            FuncLinkage::Static => 0,
            FuncLinkage::Global => 1,
            FuncLinkage::Extern => 2,
            FuncLinkage::Unknown(n) => n,
        }
    }
}

/// Linkage of a `VAR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarLinkage {
    Static,
    Global,
    Extern,
    Unknown(u32),
}

impl VarLinkage {
    pub fn from_raw(raw: u32) -> Self {
        match raw {
            0 => VarLinkage::Static,
            1 => VarLinkage::Global,
            2 => VarLinkage::Extern,
            n => VarLinkage::Unknown(n),
        }
    }
    pub fn raw(self) -> u32 {
        match self {
            VarLinkage::Static => 0,
            VarLinkage::Global => 1,
            VarLinkage::Extern => 2,
            VarLinkage::Unknown(n) => n,
        }
    }
}

/// One decoded type: its id, name (empty when anonymous) and kind-specific data.
#[derive(Debug, Clone, Copy)]
pub struct Type<'a> {
    pub id: u32,
    pub name: &'a str,
    pub kind: TypeKind<'a>,
}

/// Kind-specific contents of a type.
#[derive(Debug, Clone, Copy)]
pub enum TypeKind<'a> {
    Void,
    Int(Int),
    Ptr { target: u32 },
    Array(Array),
    Struct(Composite<'a>),
    Union(Composite<'a>),
    Enum(Enum<'a>),
    Enum64(Enum<'a>),
    Fwd { is_union: bool },
    Typedef { target: u32 },
    Volatile { target: u32 },
    Const { target: u32 },
    Restrict { target: u32 },
    Func { proto: u32, linkage: FuncLinkage },
    FuncProto(FuncProto<'a>),
    Var { target: u32, linkage: VarLinkage },
    Datasec(Datasec<'a>),
    Float { size: u32 },
    DeclTag { target: u32, component_idx: i32 },
    TypeTag { target: u32 },
}

impl TypeKind<'_> {
    pub fn kind(&self) -> BtfKind {
        match self {
            TypeKind::Void => BtfKind::Void,
            TypeKind::Int(_) => BtfKind::Int,
            TypeKind::Ptr { .. } => BtfKind::Ptr,
            TypeKind::Array(_) => BtfKind::Array,
            TypeKind::Struct(_) => BtfKind::Struct,
            TypeKind::Union(_) => BtfKind::Union,
            TypeKind::Enum(_) => BtfKind::Enum,
            TypeKind::Enum64(_) => BtfKind::Enum64,
            TypeKind::Fwd { .. } => BtfKind::Fwd,
            TypeKind::Typedef { .. } => BtfKind::Typedef,
            TypeKind::Volatile { .. } => BtfKind::Volatile,
            TypeKind::Const { .. } => BtfKind::Const,
            TypeKind::Restrict { .. } => BtfKind::Restrict,
            TypeKind::Func { .. } => BtfKind::Func,
            TypeKind::FuncProto(_) => BtfKind::FuncProto,
            TypeKind::Var { .. } => BtfKind::Var,
            TypeKind::Datasec(_) => BtfKind::Datasec,
            TypeKind::Float { .. } => BtfKind::Float,
            TypeKind::DeclTag { .. } => BtfKind::DeclTag,
            TypeKind::TypeTag { .. } => BtfKind::TypeTag,
        }
    }

    /// The type this one refers to, for kinds with a single reference.
    pub fn target(&self) -> Option<u32> {
        match *self {
            TypeKind::Ptr { target }
            | TypeKind::Typedef { target }
            | TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::Var { target, .. }
            | TypeKind::DeclTag { target, .. }
            | TypeKind::TypeTag { target } => Some(target),
            TypeKind::Func { proto, .. } => Some(proto),
            TypeKind::Array(a) => Some(a.elem),
            _ => None,
        }
    }
}

/// `INT`: size in bytes, `int_encoding` bits, bit offset and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int {
    pub size: u32,
    pub encoding: u8,
    pub offset: u8,
    pub bits: u8,
}

impl Int {
    pub fn is_signed(&self) -> bool {
        self.encoding & int_encoding::SIGNED != 0
    }
}

/// `ARRAY`: element type, index type, element count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Array {
    pub elem: u32,
    pub index: u32,
    pub nelems: u32,
}

/// A member of a struct or union.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    pub name: &'a str,
    pub name_off: u32,
    pub type_id: u32,
    /// Offset from the start of the composite, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield in bits, 0 for a plain member.
    pub bitfield_size: u32,
}

/// `STRUCT`/`UNION`.
#[derive(Debug, Clone, Copy)]
pub struct Composite<'a> {
    pub size: u32,
    pub(crate) kind_flag: bool,
    pub(crate) raw: &'a [u8],
    pub(crate) btf: &'a Btf,
}

impl<'a> Composite<'a> {
    pub fn len(&self) -> usize {
        self.raw.len() / 12
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// The member at `index`, with its name resolved.
    pub fn member(&self, index: usize) -> Result<Member<'a>, BtfError> {
        let base = index
            .checked_mul(12)
            .filter(|b| b + 12 <= self.raw.len())
            .ok_or(BtfError::IndexOutOfRange {
                id: 0,
                index: index.min(u32::MAX as usize) as u32,
            })?;
        let name_off = read_u32(self.raw, base);
        let type_id = read_u32(self.raw, base + 4);
        let offset = read_u32(self.raw, base + 8);
        let (bit_offset, bitfield_size) = if self.kind_flag {
            (offset & 0x00ff_ffff, offset >> 24)
        } else {
            (offset, 0)
        };
        Ok(Member {
            name: self.btf.string_at(name_off)?,
            name_off,
            type_id,
            bit_offset,
            bitfield_size,
        })
    }
    /// All members in order.
    pub fn members(&self) -> impl Iterator<Item = Result<Member<'a>, BtfError>> + 'a {
        let this = *self;
        (0..self.len()).map(move |i| this.member(i))
    }
}

/// One enumerator; `value` holds the raw bits (sign-extend with `Enum::signed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue<'a> {
    pub name: &'a str,
    pub value: u64,
}

/// `ENUM` (32-bit values) or `ENUM64`.
#[derive(Debug, Clone, Copy)]
pub struct Enum<'a> {
    pub size: u32,
    pub signed: bool,
    pub(crate) is64: bool,
    pub(crate) raw: &'a [u8],
    pub(crate) btf: &'a Btf,
}

impl<'a> Enum<'a> {
    fn stride(&self) -> usize {
        if self.is64 { 12 } else { 8 }
    }
    pub fn len(&self) -> usize {
        self.raw.len() / self.stride()
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// The enumerator at `index`; 32-bit values are sign- or zero-extended per `signed`.
    pub fn value(&self, index: usize) -> Result<EnumValue<'a>, BtfError> {
        let stride = self.stride();
        let base = index
            .checked_mul(stride)
            .filter(|b| b + stride <= self.raw.len())
            .ok_or(BtfError::IndexOutOfRange {
                id: 0,
                index: index.min(u32::MAX as usize) as u32,
            })?;
        let name_off = read_u32(self.raw, base);
        let lo = read_u32(self.raw, base + 4);
        let value = if self.is64 {
            u64::from(lo) | (u64::from(read_u32(self.raw, base + 8)) << 32)
        } else if self.signed {
            lo as i32 as i64 as u64
        } else {
            u64::from(lo)
        };
        Ok(EnumValue {
            name: self.btf.string_at(name_off)?,
            value,
        })
    }
    pub fn values(&self) -> impl Iterator<Item = Result<EnumValue<'a>, BtfError>> + 'a {
        let this = *self;
        (0..self.len()).map(move |i| this.value(i))
    }
}

/// A parameter of a `FUNC_PROTO`; a trailing `{ "", 0 }` marks a variadic function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub type_id: u32,
}

/// `FUNC_PROTO`: return type and parameters.
#[derive(Debug, Clone, Copy)]
pub struct FuncProto<'a> {
    pub ret: u32,
    pub(crate) raw: &'a [u8],
    pub(crate) btf: &'a Btf,
}

impl<'a> FuncProto<'a> {
    pub fn len(&self) -> usize {
        self.raw.len() / 8
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    pub fn param(&self, index: usize) -> Result<Param<'a>, BtfError> {
        let base = index
            .checked_mul(8)
            .filter(|b| b + 8 <= self.raw.len())
            .ok_or(BtfError::IndexOutOfRange {
                id: 0,
                index: index.min(u32::MAX as usize) as u32,
            })?;
        Ok(Param {
            name: self.btf.string_at(read_u32(self.raw, base))?,
            type_id: read_u32(self.raw, base + 4),
        })
    }
    pub fn params(&self) -> impl Iterator<Item = Result<Param<'a>, BtfError>> + 'a {
        let this = *self;
        (0..self.len()).map(move |i| this.param(i))
    }
}

/// One variable of a `DATASEC`: its `VAR` (or `FUNC` for externs) type, offset and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasecVar {
    pub type_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// `DATASEC`: section size and variables.
#[derive(Debug, Clone, Copy)]
pub struct Datasec<'a> {
    pub size: u32,
    pub(crate) raw: &'a [u8],
}

impl<'a> Datasec<'a> {
    pub fn len(&self) -> usize {
        self.raw.len() / 12
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    pub fn vars(&self) -> impl Iterator<Item = DatasecVar> + 'a {
        let raw = self.raw;
        raw.chunks_exact(12).map(|c| DatasecVar {
            type_id: read_u32(c, 0),
            offset: read_u32(c, 4),
            size: read_u32(c, 8),
        })
    }
}
