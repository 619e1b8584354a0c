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
    /// Decodes the kind bits of a type's `info` word.
    // A match, not a table: it compiles to a range check, and runs on every type lookup.
    #[inline]
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
    #[inline]
    pub fn raw(self) -> u32 {
        self as u32
    }

    /// Size in bytes of the data following the 12-byte common header, for `vlen` entries.
    #[inline]
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
    #[inline]
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
        let kinds: Vec<BtfKind> = (0..32).filter_map(BtfKind::from_raw).collect();
        assert_eq!(kinds.len(), 20);
        for (value, kind) in kinds.iter().enumerate() {
            assert_eq!(kind.raw(), value as u32);
        }
    }
}
