//! Rewrites BTF kinds an older kernel rejects into ones it accepts, record sizes unchanged.

use super::error::BtfError;
use super::kind::BtfKind;
use super::parse::Btf;
use super::types::{FuncLinkage, TypeKind};

/// Which BTF features the running kernel accepts (filled by the loader from probes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BtfFeatures {
    /// FUNC and FUNC_PROTO.
    pub func: bool,
    /// FUNC with global linkage.
    pub func_global: bool,
    /// VAR and DATASEC.
    pub datasec: bool,
    pub float: bool,
    pub decl_tag: bool,
    pub type_tag: bool,
    pub enum64: bool,
    /// ENUM with its kind flag set (signed values; Linux 6.0, with ENUM64).
    pub signed_enum: bool,
    /// DATASEC without variables (a section holding only unnamed data, such as string
    /// literals).
    pub empty_datasec: bool,
}

impl BtfFeatures {
    /// Everything supported: sanitising is then a no-op.
    pub fn all() -> Self {
        BtfFeatures {
            func: true,
            func_global: true,
            datasec: true,
            float: true,
            decl_tag: true,
            type_tag: true,
            enum64: true,
            signed_enum: true,
            empty_datasec: true,
        }
    }
    /// Nothing beyond the original BTF kinds.
    pub fn none() -> Self {
        BtfFeatures {
            func: false,
            func_global: false,
            datasec: false,
            float: false,
            decl_tag: false,
            type_tag: false,
            enum64: false,
            signed_enum: false,
            empty_datasec: false,
        }
    }
}

impl Default for BtfFeatures {
    fn default() -> Self {
        Self::all()
    }
}

impl Btf {
    /// True when `sanitize(features)` would change something.
    pub fn needs_sanitizing(&self, features: &BtfFeatures) -> Result<bool, BtfError> {
        for id in self.own_ids() {
            let unsupported = match self.kind(id)? {
                BtfKind::Var => !features.datasec,
                BtfKind::Datasec => {
                    !features.datasec || (!features.empty_datasec && self.raw(id)?.vlen() == 0)
                }
                BtfKind::Enum => !features.signed_enum && self.raw(id)?.kind_flag(),
                BtfKind::Float => !features.float,
                BtfKind::DeclTag => !features.decl_tag,
                BtfKind::TypeTag => !features.type_tag,
                BtfKind::Enum64 => !features.enum64,
                BtfKind::FuncProto => !features.func,
                BtfKind::Func => {
                    !features.func || (!features.func_global && self.raw(id)?.vlen() != 0)
                }
                _ => false,
            };
            if unsupported {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Replaces kinds the kernel lacks, as libbpf does: VAR→INT, DATASEC→STRUCT (dots in names
    /// become underscores), FLOAT→empty STRUCT of the same size, DECL_TAG→INT, TYPE_TAG→CONST,
    /// ENUM64→UNION of placeholder ints, FUNC→TYPEDEF and FUNC_PROTO→ENUM, global FUNC→static;
    /// a signed ENUM loses its kind flag (its values keep their bits), an empty DATASEC
    /// becomes an empty STRUCT of its size.
    pub fn sanitize(&mut self, features: &BtfFeatures) -> Result<(), BtfError> {
        let mut enum64_placeholder = None;
        for id in self.own_ids() {
            let raw = self.raw(id)?;
            let (kind, vlen, name_off) = (raw.kind(), raw.vlen(), raw.name_off);
            let kind_flag = raw.kind_flag();
            match kind {
                BtfKind::Enum if !features.signed_enum && kind_flag => {
                    self.set_info(id, BtfKind::Enum, false, vlen)?;
                }
                BtfKind::Datasec if features.datasec && !features.empty_datasec && vlen == 0 => {
                    self.underscore_dots(name_off)?;
                    self.set_info(id, BtfKind::Struct, false, 0)?;
                }
                BtfKind::Var if !features.datasec => {
                    self.set_info(id, BtfKind::Int, false, 0)?;
                    self.set_size_or_type(id, 1)?;
                    self.set_extra_u32(id, 0, 8)?;
                }
                BtfKind::Datasec if !features.datasec => {
                    self.underscore_dots(name_off)?;
                    self.datasec_to_struct(id, vlen)?;
                }
                BtfKind::Float if !features.float => {
                    // "float" is not a valid struct name, so make it anonymous.
                    self.set_name_off(id, 0)?;
                    self.set_info(id, BtfKind::Struct, false, 0)?;
                }
                BtfKind::DeclTag if !features.decl_tag => {
                    self.set_name_off(id, 0)?;
                    self.set_info(id, BtfKind::Int, false, 0)?;
                    self.set_size_or_type(id, 1)?;
                    self.set_extra_u32(id, 0, 8)?;
                }
                BtfKind::TypeTag if !features.type_tag => {
                    self.set_name_off(id, 0)?;
                    self.set_info(id, BtfKind::Const, false, 0)?;
                }
                BtfKind::Enum64 if !features.enum64 => {
                    let placeholder = *enum64_placeholder
                        .get_or_insert_with(|| self.add_int("enum64_placeholder", 1, 0, 8));
                    self.set_info(id, BtfKind::Union, false, vlen)?;
                    for i in 0..vlen as usize {
                        self.set_extra_u32(id, i * 3 + 1, placeholder)?;
                        self.set_extra_u32(id, i * 3 + 2, 0)?;
                    }
                }
                BtfKind::FuncProto if !features.func => {
                    self.set_info(id, BtfKind::Enum, false, vlen)?;
                    self.set_size_or_type(id, 4)?;
                }
                BtfKind::Func if !features.func => {
                    self.set_info(id, BtfKind::Typedef, false, 0)?;
                }
                BtfKind::Func
                    if !features.func_global && vlen != u32::from(FuncLinkage::Static.raw()) =>
                {
                    self.set_info(id, BtfKind::Func, false, 0)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A DATASEC becomes a STRUCT whose members are its variables, at their offsets.
    fn datasec_to_struct(&mut self, id: u32, vlen: u32) -> Result<(), BtfError> {
        let TypeKind::Datasec(sec) = self.type_by_id(id)?.kind else {
            return Ok(());
        };
        let vars: Vec<_> = sec.vars().collect();
        self.set_info(id, BtfKind::Struct, false, vlen)?;
        for (i, v) in vars.iter().enumerate() {
            // Keep each variable's name as the member name.
            let var_name = self.raw(v.type_id)?.name_off;
            self.set_extra_u32(id, i * 3, var_name)?;
            self.set_extra_u32(id, i * 3 + 1, v.type_id)?;
            self.set_extra_u32(id, i * 3 + 2, v.offset.saturating_mul(8))?;
        }
        Ok(())
    }

    /// Section names (`.rodata`) are no valid struct names: `_rodata` is.
    fn underscore_dots(&mut self, name_off: u32) -> Result<(), BtfError> {
        for b in self.string_bytes_mut(name_off)? {
            if *b == b'.' {
                *b = b'_';
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BTF of a signed ENUM `e { x = -1 }` (id 1) and an empty DATASEC `.rodata` of 12 bytes
    /// (id 2): what clang emits for a negative enumerator and a section of string literals.
    fn signed_enum_and_empty_datasec() -> Btf {
        let strings = b"\0e\0x\0.rodata\0";
        let types: [u32; 8] = [
            1,
            (1 << 31) | (6 << 24) | 1,
            4,
            3,
            u32::MAX,
            5,
            15 << 24,
            12,
        ];
        let mut raw = Vec::new();
        raw.extend_from_slice(&0xeb9fu16.to_le_bytes());
        raw.extend_from_slice(&[1, 0]);
        let type_len = (types.len() * 4) as u32;
        for word in [24, 0, type_len, type_len, strings.len() as u32] {
            raw.extend_from_slice(&word.to_le_bytes());
        }
        for word in types {
            raw.extend_from_slice(&word.to_le_bytes());
        }
        raw.extend_from_slice(strings);
        Btf::parse(&raw).unwrap()
    }

    #[test]
    fn signed_enums_lose_the_kind_flag_where_the_kernel_lacks_it() {
        let mut btf = signed_enum_and_empty_datasec();
        let only_signed_enum = BtfFeatures {
            signed_enum: false,
            ..BtfFeatures::all()
        };
        assert!(btf.needs_sanitizing(&only_signed_enum).unwrap());
        btf.sanitize(&only_signed_enum).unwrap();
        let raw = btf.raw(1).unwrap();
        assert_eq!(
            (raw.kind(), raw.kind_flag(), raw.vlen()),
            (BtfKind::Enum, false, 1)
        );
        assert_eq!(btf.kind(2).unwrap(), BtfKind::Datasec, "left alone");
        assert!(!btf.needs_sanitizing(&only_signed_enum).unwrap());
    }

    #[test]
    fn empty_datasecs_become_empty_structs_where_the_kernel_refuses_them() {
        let mut btf = signed_enum_and_empty_datasec();
        let no_empty_datasec = BtfFeatures {
            empty_datasec: false,
            ..BtfFeatures::all()
        };
        assert!(btf.needs_sanitizing(&no_empty_datasec).unwrap());
        btf.sanitize(&no_empty_datasec).unwrap();
        let ty = btf.type_by_id(2).unwrap();
        assert_eq!(btf.kind(2).unwrap(), BtfKind::Struct);
        assert_eq!(ty.name, "_rodata");
        assert!(btf.raw(1).unwrap().kind_flag(), "left alone");
        let again = Btf::parse(&btf.to_bytes()).unwrap();
        assert_eq!(again.to_bytes(), btf.to_bytes());
    }
}
