//! The kinds of BTF type records (`BTF_KIND_*`) and the length of each kind's record.

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
    /// Every kind, in `BTF_KIND_*` order: `ALL[k]` is the kind whose value is `k`.
    pub const ALL: [BtfKind; 20] = {
        use BtfKind::*;
        [
            Void, Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict,
            Func, FuncProto, Var, Datasec, Float, DeclTag, TypeTag, Enum64,
        ]
    };

    /// Decodes the kind bits of a type's `info` word.
    pub fn from_raw(raw: u32) -> Option<Self> {
        Self::ALL.get(raw as usize).copied()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_decodes_from_its_own_value_only() {
        for (value, kind) in BtfKind::ALL.iter().enumerate() {
            assert_eq!(kind.raw(), value as u32);
            assert_eq!(BtfKind::from_raw(value as u32), Some(*kind));
        }
        assert_eq!(BtfKind::from_raw(BtfKind::ALL.len() as u32), None);
    }
}
