//! `.BTF.ext`: per-section function info, line info and CO-RE relocation records.

use super::bytes::read_u32;
use super::error::BtfError;
use super::parse::{Btf, check_magic_and_version};

/// `bpf_func_info`: the `FUNC` type of the function starting at `insn_off` (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    pub insn_off: u32,
    pub type_id: u32,
}

/// `bpf_line_info`: source position of the instruction at `insn_off` (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInfo {
    pub insn_off: u32,
    pub file_name_off: u32,
    pub line_off: u32,
    pub line_col: u32,
}

impl LineInfo {
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// The 13 CO-RE relocation kinds (`enum bpf_core_relo_kind`), declared in its order: a kind's
/// discriminant is its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreReloKind {
    /// `bpf_core_field_offset()` and every `BPF_CORE_READ()`: the field's byte offset.
    FieldByteOffset,
    /// `bpf_core_field_size()`: the field's size in bytes.
    FieldByteSize,
    /// `bpf_core_field_exists()`: 1 if the target has the field.
    FieldExists,
    /// Whether the field is signed (bitfield reads sign-extend by it).
    FieldSigned,
    /// Left shift that puts a bitfield's top bit at bit 63 of a u64.
    FieldLShiftU64,
    /// Right shift that then brings the bitfield down to bit 0.
    FieldRShiftU64,
    /// `bpf_core_type_id_local()`: the type's id in the program's own BTF.
    TypeIdLocal,
    /// `bpf_core_type_id_kernel()`: the matching type's id in the target BTF.
    TypeIdTarget,
    /// `bpf_core_type_exists()`: 1 if the target has a compatible type.
    TypeExists,
    /// `bpf_core_type_size()`: the target type's size in bytes.
    TypeSize,
    /// `bpf_core_enum_value_exists()`: 1 if the target enum has the enumerator.
    EnumValueExists,
    /// `bpf_core_enum_value()`: the enumerator's value in the target.
    EnumValueValue,
    /// `bpf_core_type_matches()`: 1 if the target type matches field by field.
    TypeMatches,
}

impl CoreReloKind {
    /// Every kind, in `bpf_core_relo_kind` order: `ALL[k]` is the kind whose value is `k`.
    pub const ALL: [CoreReloKind; 13] = {
        use CoreReloKind::*;
        [
            FieldByteOffset,
            FieldByteSize,
            FieldExists,
            FieldSigned,
            FieldLShiftU64,
            FieldRShiftU64,
            TypeIdLocal,
            TypeIdTarget,
            TypeExists,
            TypeSize,
            EnumValueExists,
            EnumValueValue,
            TypeMatches,
        ]
    };

    pub fn from_raw(raw: u32) -> Option<Self> {
        Self::ALL.get(raw as usize).copied()
    }
    pub fn is_field_based(self) -> bool {
        (self as u32) <= 5
    }
    pub fn is_type_based(self) -> bool {
        matches!(
            self,
            CoreReloKind::TypeIdLocal
                | CoreReloKind::TypeIdTarget
                | CoreReloKind::TypeExists
                | CoreReloKind::TypeSize
                | CoreReloKind::TypeMatches
        )
    }
    pub fn is_enumval_based(self) -> bool {
        matches!(
            self,
            CoreReloKind::EnumValueExists | CoreReloKind::EnumValueValue
        )
    }
    /// libbpf's name for the kind, used in messages.
    pub fn name(self) -> &'static str {
        use CoreReloKind::*;
        match self {
            FieldByteOffset => "byte_off",
            FieldByteSize => "byte_sz",
            FieldExists => "field_exists",
            FieldSigned => "signed",
            FieldLShiftU64 => "lshift_u64",
            FieldRShiftU64 => "rshift_u64",
            TypeIdLocal => "local_type_id",
            TypeIdTarget => "target_type_id",
            TypeExists => "type_exists",
            TypeSize => "type_size",
            EnumValueExists => "enumval_exists",
            EnumValueValue => "enumval_value",
            TypeMatches => "type_matches",
        }
    }
}

/// `bpf_core_relo`: relocate the instruction at `insn_off` (bytes) per `kind`, for the access
/// described by `access_str_off` (e.g. `"0:1:2"`) starting at local type `type_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreRelo {
    pub insn_off: u32,
    pub type_id: u32,
    pub access_str_off: u32,
    pub kind: CoreReloKind,
}

/// Records of one ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtSection<T> {
    pub name: String,
    pub records: Vec<T>,
}

/// A parsed `.BTF.ext`; instruction offsets are in bytes from the start of each ELF section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BtfExt {
    pub func_info: Vec<ExtSection<FuncInfo>>,
    pub line_info: Vec<ExtSection<LineInfo>>,
    pub core_relos: Vec<ExtSection<CoreRelo>>,
}

impl BtfExt {
    /// Parses `.BTF.ext`; section names are looked up in `btf`'s string table.
    pub fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        let hdr_len = ext_header_len(data)?;
        let sub = |field: usize| subsection(data, hdr_len, field);
        Ok(BtfExt {
            func_info: func_infos(sub(8)?, btf)?,
            line_info: line_infos(sub(16)?, btf)?,
            core_relos: core_relos(sub(24)?, btf)?,
        })
    }

    /// Function info of ELF section `name`.
    pub fn func_info_of(&self, name: &str) -> &[FuncInfo] {
        self.func_info
            .iter()
            .find(|s| s.name == name)
            .map_or(&[], |s| &s.records)
    }
    /// Line info of ELF section `name`.
    pub fn line_info_of(&self, name: &str) -> &[LineInfo] {
        self.line_info
            .iter()
            .find(|s| s.name == name)
            .map_or(&[], |s| &s.records)
    }
    /// CO-RE relocations of ELF section `name`.
    pub fn core_relos_of(&self, name: &str) -> &[CoreRelo] {
        self.core_relos
            .iter()
            .find(|s| s.name == name)
            .map_or(&[], |s| &s.records)
    }
}

/// The header's length, once its magic, version and length are known good.
fn ext_header_len(data: &[u8]) -> Result<usize, BtfError> {
    if data.len() < 8 {
        return Err(BtfError::BadExt(format!(
            "header truncated: {} bytes",
            data.len()
        )));
    }
    check_magic_and_version(data)?;
    let hdr_len = read_u32(data, 4) as usize;
    if hdr_len < 24 || hdr_len > data.len() {
        return Err(BtfError::BadExt(format!(
            "header length {hdr_len} out of range"
        )));
    }
    Ok(hdr_len)
}

/// The sub-section whose offset and length (relative to the end of the header) the header
/// holds at `field`; empty when the header is too short to have it.
fn subsection(data: &[u8], hdr_len: usize, field: usize) -> Result<&[u8], BtfError> {
    if field + 8 > hdr_len {
        return Ok(&[]);
    }
    let body = &data[hdr_len..];
    let off = read_u32(data, field) as usize;
    let len = read_u32(data, field + 4) as usize;
    off.checked_add(len)
        .and_then(|end| body.get(off..end))
        .ok_or_else(|| {
            BtfError::BadExt(format!(
                "subsection at {off}+{len} past the end ({} bytes)",
                body.len()
            ))
        })
}

/// `func_info`: the `FUNC` type of each function, per ELF section.
fn func_infos(data: &[u8], btf: &Btf) -> Result<Vec<ExtSection<FuncInfo>>, BtfError> {
    parse_subsection(data, btf, "func_info", 8, |r| FuncInfo {
        insn_off: read_u32(r, 0),
        type_id: read_u32(r, 4),
    })
}

/// `line_info`: source positions of instructions, per ELF section.
fn line_infos(data: &[u8], btf: &Btf) -> Result<Vec<ExtSection<LineInfo>>, BtfError> {
    parse_subsection(data, btf, "line_info", 16, |r| LineInfo {
        insn_off: read_u32(r, 0),
        file_name_off: read_u32(r, 4),
        line_off: read_u32(r, 8),
        line_col: read_u32(r, 12),
    })
}

/// `core_relo`: CO-RE relocation records per ELF section, each of a known kind.
fn core_relos(data: &[u8], btf: &Btf) -> Result<Vec<ExtSection<CoreRelo>>, BtfError> {
    let sections = parse_subsection(data, btf, "core_relo", 16, |r| {
        (
            read_u32(r, 0),
            read_u32(r, 4),
            read_u32(r, 8),
            read_u32(r, 12),
        )
    })?;
    let mut out = Vec::with_capacity(sections.len());
    for s in sections {
        let mut records = Vec::with_capacity(s.records.len());
        for (insn_off, type_id, access_str_off, kind) in s.records {
            let kind = CoreReloKind::from_raw(kind).ok_or_else(|| {
                BtfError::BadExt(format!(
                    "section {}: unknown CO-RE relocation kind {kind}",
                    s.name
                ))
            })?;
            records.push(CoreRelo {
                insn_off,
                type_id,
                access_str_off,
                kind,
            });
        }
        out.push(ExtSection {
            name: s.name,
            records,
        });
    }
    Ok(out)
}

/// Parses `rec_size`, then `{sec_name_off, num_info, records...}` groups.
fn parse_subsection<T>(
    data: &[u8],
    btf: &Btf,
    what: &str,
    min_rec_size: usize,
    decode: impl Fn(&[u8]) -> T,
) -> Result<Vec<ExtSection<T>>, BtfError> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let bad = |msg: String| BtfError::BadExt(format!("{what}: {msg}"));
    if data.len() < 4 {
        return Err(bad("truncated record size".into()));
    }
    let rec_size = read_u32(data, 0) as usize;
    if rec_size < min_rec_size || rec_size & 3 != 0 {
        return Err(bad(format!("record size {rec_size} invalid")));
    }
    let mut out = Vec::new();
    let mut pos = 4;
    while pos < data.len() {
        if pos + 8 > data.len() {
            return Err(bad(format!("section header truncated at {pos}")));
        }
        let name_off = read_u32(data, pos);
        let count = read_u32(data, pos + 4) as usize;
        pos += 8;
        let name = btf.string_at(name_off)?.to_string();
        let bytes = count
            .checked_mul(rec_size)
            .and_then(|n| pos.checked_add(n))
            .and_then(|end| data.get(pos..end))
            .ok_or_else(|| {
                bad(format!(
                    "section {name}: {count} records of {rec_size} bytes past the end"
                ))
            })?;
        let records = bytes.chunks_exact(rec_size).map(&decode).collect();
        pos += bytes.len();
        out.push(ExtSection { name, records });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_relocation_kind_decodes_from_its_own_value_only() {
        for (value, kind) in CoreReloKind::ALL.iter().enumerate() {
            assert_eq!(*kind as u32, value as u32);
            assert_eq!(CoreReloKind::from_raw(value as u32), Some(*kind));
        }
        assert_eq!(CoreReloKind::from_raw(CoreReloKind::ALL.len() as u32), None);
        assert!(CoreReloKind::FieldRShiftU64.is_field_based());
        assert!(!CoreReloKind::TypeIdLocal.is_field_based());
    }
}
