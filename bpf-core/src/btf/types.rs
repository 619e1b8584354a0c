//! Typed views of BTF type records, decoded on demand from the raw bytes.

use super::bytes::read_u32;
use super::error::BtfError;
use super::kind::BtfKind;

/// The string table a view reads the names its record holds offsets of: that of the BTF it
/// was decoded from (the base's included, for split BTF).
pub(crate) trait StringTable: std::fmt::Debug + Sync {
    fn string_at(&self, offset: u32) -> Result<&str, BtfError>;
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

/// Entry `index` of the `stride`-byte entries following type `id`'s header (members,
/// enumerators, parameters).
#[inline]
fn entry(raw: &[u8], stride: usize, index: usize, id: u32) -> Result<&[u8], BtfError> {
    index
        .checked_mul(stride)
        .and_then(|start| raw.get(start..start.checked_add(stride)?))
        .ok_or(BtfError::IndexOutOfRange {
            id,
            index: index.min(u32::MAX as usize) as u32,
        })
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
    pub(crate) strings: &'a dyn StringTable,
    pub(crate) id: u32,
}

impl<'a> Composite<'a> {
    pub fn len(&self) -> usize {
        self.raw.len() / 12
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// The member at `index`, with its name resolved.
    #[inline]
    pub fn member(&self, index: usize) -> Result<Member<'a>, BtfError> {
        let entry = entry(self.raw, 12, index, self.id)?;
        let name_off = read_u32(entry, 0);
        let type_id = read_u32(entry, 4);
        let offset = read_u32(entry, 8);
        let (bit_offset, bitfield_size) = if self.kind_flag {
            (offset & 0x00ff_ffff, offset >> 24)
        } else {
            (offset, 0)
        };
        Ok(Member {
            name: self.strings.string_at(name_off)?,
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
    pub(crate) strings: &'a dyn StringTable,
    pub(crate) id: u32,
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
    #[inline]
    pub fn value(&self, index: usize) -> Result<EnumValue<'a>, BtfError> {
        let entry = entry(self.raw, self.stride(), index, self.id)?;
        let name_off = read_u32(entry, 0);
        let lo = read_u32(entry, 4);
        let value = if self.is64 {
            u64::from(lo) | (u64::from(read_u32(entry, 8)) << 32)
        } else if self.signed {
            lo as i32 as i64 as u64
        } else {
            u64::from(lo)
        };
        Ok(EnumValue {
            name: self.strings.string_at(name_off)?,
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
    pub(crate) strings: &'a dyn StringTable,
    pub(crate) id: u32,
}

impl<'a> FuncProto<'a> {
    pub fn len(&self) -> usize {
        self.raw.len() / 8
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    #[inline]
    pub fn param(&self, index: usize) -> Result<Param<'a>, BtfError> {
        let entry = entry(self.raw, 8, index, self.id)?;
        Ok(Param {
            name: self.strings.string_at(read_u32(entry, 0))?,
            type_id: read_u32(entry, 4),
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
