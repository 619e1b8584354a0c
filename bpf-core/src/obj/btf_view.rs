//! A small read-only view of `.BTF` and `.BTF.ext`: just what the object model needs to read
//! BTF-defined maps, extern types, data sections and per-function func/line/CO-RE records.

use bpf_sys::generated::{bpf_core_relo, bpf_func_info, bpf_line_info};

pub(crate) const KIND_INT: u32 = 1;
pub(crate) const KIND_PTR: u32 = 2;
pub(crate) const KIND_ARRAY: u32 = 3;
pub(crate) const KIND_STRUCT: u32 = 4;
pub(crate) const KIND_UNION: u32 = 5;
pub(crate) const KIND_ENUM: u32 = 6;
pub(crate) const KIND_TYPEDEF: u32 = 8;
pub(crate) const KIND_VOLATILE: u32 = 9;
pub(crate) const KIND_CONST: u32 = 10;
pub(crate) const KIND_RESTRICT: u32 = 11;
pub(crate) const KIND_FUNC: u32 = 12;
pub(crate) const KIND_VAR: u32 = 14;
pub(crate) const KIND_DATASEC: u32 = 15;
pub(crate) const KIND_FLOAT: u32 = 16;
pub(crate) const KIND_TYPE_TAG: u32 = 18;
pub(crate) const KIND_ENUM64: u32 = 19;

/// `BTF_INT_SIGNED` / `BTF_INT_CHAR` / `BTF_INT_BOOL` encodings.
pub(crate) const INT_SIGNED: u32 = 1;
pub(crate) const INT_CHAR: u32 = 2;
pub(crate) const INT_BOOL: u32 = 4;

/// Guards against reference cycles in malformed BTF.
const MAX_CHAIN: usize = 32;

/// One member / variable / parameter entry of a type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub name_off: u32,
    pub type_id: u32,
    pub offset: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Type {
    pub name_off: u32,
    pub kind: u32,
    pub size_or_type: u32,
    /// INT encoding word; ARRAY element type; VAR linkage.
    pub extra: u32,
    /// ARRAY element count.
    pub nelems: u32,
    /// STRUCT/UNION members (offset in bits), DATASEC vars (offset in bytes, size in `offset`'s
    /// place is kept in `sizes`), FUNC_PROTO params.
    pub entries: Vec<Entry>,
    pub sizes: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct BtfView {
    /// Index 0 is `void`.
    types: Vec<Type>,
    strings: Vec<u8>,
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    data.get(at..at.checked_add(2)?)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

const BTF_MAGIC: u16 = 0xeb9f;

impl BtfView {
    pub fn parse(data: &[u8]) -> Result<BtfView, String> {
        if u16_at(data, 0) != Some(BTF_MAGIC) {
            return Err("bad .BTF magic".into());
        }
        let field =
            |i: usize| u32_at(data, 4 + 4 * i).ok_or_else(|| ".BTF header truncated".to_string());
        let hdr_len = field(0)? as usize;
        let (type_off, type_len, str_off, str_len) = (field(1)?, field(2)?, field(3)?, field(4)?);
        let slice = |off: u32, len: u32, what: &str| {
            let start = hdr_len.checked_add(off as usize);
            start
                .and_then(|s| data.get(s..s.checked_add(len as usize)?))
                .ok_or_else(|| format!(".BTF {what} ({len} bytes at {off}) out of bounds"))
        };
        let type_data = slice(type_off, type_len, "type section")?;
        let strings = slice(str_off, str_len, "string section")?.to_vec();
        let mut types = vec![Type {
            name_off: 0,
            kind: 0,
            size_or_type: 0,
            extra: 0,
            nelems: 0,
            entries: Vec::new(),
            sizes: Vec::new(),
        }];
        let mut at = 0;
        while at < type_data.len() {
            let truncated = || format!(".BTF type {} truncated", types.len());
            let word = |i: usize| u32_at(type_data, at + 4 * i).ok_or_else(truncated);
            let (name_off, info, size_or_type) = (word(0)?, word(1)?, word(2)?);
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            at += 12;
            let word = |i: usize| u32_at(type_data, at + 4 * i).ok_or_else(truncated);
            let mut ty = Type {
                name_off,
                kind,
                size_or_type,
                extra: 0,
                nelems: 0,
                entries: Vec::new(),
                sizes: Vec::new(),
            };
            let entry_words = match kind {
                KIND_INT | KIND_VAR | 17 => {
                    ty.extra = word(0)?;
                    at += 4;
                    0
                }
                KIND_ARRAY => {
                    ty.extra = word(0)?;
                    ty.nelems = word(2)?;
                    at += 12;
                    0
                }
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 3,
                KIND_ENUM | 13 => 2,
                0 | 7 | KIND_PTR | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                other => {
                    return Err(format!(
                        ".BTF type {} has unknown kind {other}",
                        types.len()
                    ));
                }
            };
            if entry_words > 0 {
                let bytes = vlen.checked_mul(entry_words * 4).ok_or_else(truncated)?;
                let entries = type_data
                    .get(at..at.checked_add(bytes).ok_or_else(truncated)?)
                    .ok_or_else(truncated)?;
                for chunk in entries.chunks_exact(entry_words * 4) {
                    let w = |i: usize| u32_at(chunk, 4 * i).unwrap_or(0);
                    match kind {
                        KIND_STRUCT | KIND_UNION => ty.entries.push(Entry {
                            name_off: w(0),
                            type_id: w(1),
                            offset: w(2),
                        }),
                        KIND_DATASEC => {
                            ty.entries.push(Entry {
                                name_off: 0,
                                type_id: w(0),
                                offset: w(1),
                            });
                            ty.sizes.push(w(2));
                        }
                        13 => ty.entries.push(Entry {
                            name_off: w(0),
                            type_id: w(1),
                            offset: 0,
                        }),
                        _ => {}
                    }
                }
                at += bytes;
            }
            types.push(ty);
        }
        Ok(BtfView { types, strings })
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn get(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    pub fn string(&self, offset: u32) -> Option<&str> {
        let rest = self.strings.get(offset as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&rest[..end]).ok()
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.string(self.get(id)?.name_off)
    }

    /// Follows typedefs and qualifiers to the underlying type id.
    pub fn resolve(&self, mut id: u32) -> Option<u32> {
        for _ in 0..MAX_CHAIN {
            let ty = self.get(id)?;
            match ty.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = ty.size_or_type
                }
                _ => return Some(id),
            }
        }
        None
    }

    /// Size in bytes of type `id`.
    pub fn size_of(&self, id: u32) -> Option<u32> {
        let mut id = self.resolve(id)?;
        let mut multiplier: u32 = 1;
        for _ in 0..MAX_CHAIN {
            let ty = self.get(id)?;
            match ty.kind {
                KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT
                | KIND_DATASEC => {
                    return multiplier.checked_mul(ty.size_or_type);
                }
                KIND_PTR => return multiplier.checked_mul(8),
                KIND_ARRAY => {
                    multiplier = multiplier.checked_mul(ty.nelems)?;
                    id = self.resolve(ty.extra)?;
                }
                KIND_VAR => id = self.resolve(ty.size_or_type)?,
                _ => return None,
            }
        }
        None
    }

    /// The DATASEC named `name`.
    pub fn datasec(&self, name: &str) -> Option<(u32, &Type)> {
        self.types
            .iter()
            .enumerate()
            .find(|(_, t)| t.kind == KIND_DATASEC && self.string(t.name_off) == Some(name))
            .map(|(id, t)| (id as u32, t))
    }
}

/// Records of one ELF section in `.BTF.ext` (offsets in bytes from the section start).
#[derive(Debug, Default, Clone)]
pub(crate) struct SectionExt {
    pub func_info: Vec<bpf_func_info>,
    pub line_info: Vec<bpf_line_info>,
    pub core_relos: Vec<bpf_core_relo>,
}

/// `.BTF.ext` grouped by section name, plus the record sizes found.
#[derive(Debug, Default, Clone)]
pub(crate) struct BtfExtView {
    pub sections: Vec<(String, SectionExt)>,
    pub func_info_rec_size: u32,
    pub line_info_rec_size: u32,
}

impl BtfExtView {
    pub fn parse(data: &[u8], btf: &BtfView) -> Result<BtfExtView, String> {
        if u16_at(data, 0) != Some(BTF_MAGIC) {
            return Err("bad .BTF.ext magic".into());
        }
        let hdr_len = u32_at(data, 4).ok_or(".BTF.ext header truncated")? as usize;
        let field = |i: usize| {
            u32_at(data, 8 + 4 * i).ok_or_else(|| ".BTF.ext header truncated".to_string())
        };
        let mut ext = BtfExtView::default();
        let mut blocks = vec![(0, field(0)?, field(1)?), (1, field(2)?, field(3)?)];
        if hdr_len >= 32 {
            blocks.push((2, field(4)?, field(5)?));
        }
        for (which, off, len) in blocks {
            if len == 0 {
                continue;
            }
            let start = hdr_len
                .checked_add(off as usize)
                .ok_or(".BTF.ext offset overflow")?;
            let block = start
                .checked_add(len as usize)
                .and_then(|end| data.get(start..end))
                .ok_or_else(|| {
                    format!(".BTF.ext block {which} ({len} bytes at {off}) out of bounds")
                })?;
            let rec_size = u32_at(block, 0).ok_or(".BTF.ext block truncated")? as usize;
            let min = [8, 16, 16][which];
            if rec_size < min {
                return Err(format!(".BTF.ext record size {rec_size} below {min}"));
            }
            match which {
                0 => ext.func_info_rec_size = rec_size as u32,
                1 => ext.line_info_rec_size = rec_size as u32,
                _ => {}
            }
            let mut at = 4;
            while at < block.len() {
                let sec_name = u32_at(block, at).ok_or(".BTF.ext section header truncated")?;
                let count =
                    u32_at(block, at + 4).ok_or(".BTF.ext section header truncated")? as usize;
                at += 8;
                let name = btf
                    .string(sec_name)
                    .ok_or_else(|| format!(".BTF.ext section name offset {sec_name} invalid"))?;
                let bytes = count
                    .checked_mul(rec_size)
                    .ok_or(".BTF.ext record count overflow")?;
                let records = at
                    .checked_add(bytes)
                    .and_then(|end| block.get(at..end))
                    .ok_or_else(|| format!(".BTF.ext records of `{name}` out of bounds"))?;
                at += bytes;
                let index = match ext.sections.iter().position(|(n, _)| n == name) {
                    Some(i) => i,
                    None => {
                        ext.sections.push((name.to_owned(), SectionExt::default()));
                        ext.sections.len() - 1
                    }
                };
                let section = &mut ext.sections[index].1;
                for record in records.chunks_exact(rec_size) {
                    let w = |i: usize| u32_at(record, 4 * i).unwrap_or(0);
                    match which {
                        0 => section.func_info.push(bpf_func_info {
                            insn_off: w(0),
                            type_id: w(1),
                        }),
                        1 => section.line_info.push(bpf_line_info {
                            insn_off: w(0),
                            file_name_off: w(1),
                            line_off: w(2),
                            line_col: w(3),
                        }),
                        _ => section.core_relos.push(bpf_core_relo {
                            insn_off: w(0),
                            type_id: w(1),
                            access_str_off: w(2),
                            kind: w(3),
                        }),
                    }
                }
            }
        }
        Ok(ext)
    }
}
