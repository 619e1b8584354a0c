//! `Btf`: a BTF blob indexed by type id, decoding type records on demand.

use std::sync::{Arc, OnceLock};

use super::bytes::{BtfBytes, SharedBytes, read_u32, write_u32};
use super::error::BtfError;
use super::kind::BtfKind;
use super::types::*;

pub(crate) const HEADER_LEN: usize = 24;
const MAGIC: u16 = 0xeb9f;
/// Longest modifier/typedef chain followed before declaring a loop (the kernel uses 32).
pub(crate) const MAX_RESOLVE_DEPTH: usize = 32;
/// Pointer size of the BPF target.
const POINTER_SIZE: u32 = 8;

/// The raw 12-byte header of a type record plus the bytes after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawType<'a> {
    pub name_off: u32,
    pub info: u32,
    pub size_or_type: u32,
    pub extra: &'a [u8],
}

impl RawType<'_> {
    #[inline]
    pub fn kind(&self) -> BtfKind {
        // Kinds were validated while indexing.
        BtfKind::from_raw((self.info >> 24) & 0x1f).unwrap_or(BtfKind::Void)
    }
    #[inline]
    pub fn vlen(&self) -> u32 {
        self.info & 0xffff
    }
    #[inline]
    pub fn kind_flag(&self) -> bool {
        self.info >> 31 != 0
    }
    /// The `INT` encoding word after the header.
    fn int(&self) -> Int {
        let enc = read_u32(self.extra, 0);
        Int {
            size: self.size_or_type,
            encoding: ((enc >> 24) & 0x0f) as u8,
            offset: ((enc >> 16) & 0xff) as u8,
            bits: (enc & 0xff) as u8,
        }
    }
    /// The `ARRAY` description after the header.
    fn array(&self) -> Array {
        Array {
            elem: read_u32(self.extra, 0),
            index: read_u32(self.extra, 4),
            nelems: read_u32(self.extra, 8),
        }
    }
}

impl StringTable for Btf {
    #[inline]
    fn string_at(&self, offset: u32) -> Result<&str, BtfError> {
        Btf::string_at(self, offset)
    }
}

/// A parsed BTF blob: the bytes, an index of type records by id, and an optional base (split BTF).
#[derive(Clone)]
pub struct Btf {
    data: BtfBytes,
    types_start: usize,
    types_end: usize,
    strs_start: usize,
    strs_end: usize,
    /// Absolute offset in `data` of each type record this blob defines, by `id - first_id`.
    offsets: Vec<u32>,
    first_id: u32,
    str_base: u32,
    base: Option<Arc<Btf>>,
    /// Name indexes of the kinds CO-RE relocates against, and of all other named kinds.
    names: [OnceLock<NameIndex>; 2],
}

impl std::fmt::Debug for Btf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("first_id", &self.first_id)
            .field("end_id", &self.end_id())
            .field("string_bytes", &(self.strs_end - self.strs_start))
            .field("split", &self.base.is_some())
            .finish()
    }
}

impl Btf {
    /// Parses a standalone BTF blob (e.g. `/sys/kernel/btf/vmlinux` or an object's `.BTF`).
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        Self::parse_owned(data.to_vec(), None)
    }

    /// Parses the contents of a BTF file: raw BTF (`/sys/kernel/btf/vmlinux`), or an ELF file
    /// (a vmlinux image, an object) whose `.BTF` section holds it.
    pub fn parse_file_contents(data: Vec<u8>) -> Result<Btf, BtfError> {
        if !data.starts_with(b"\x7fELF") {
            return Self::parse_owned(data, None);
        }
        let file = crate::elf::ElfFile::parse(&data).map_err(BtfError::Elf)?;
        let section = file
            .section_data(".BTF")
            .map_err(BtfError::Elf)?
            .ok_or(BtfError::NoBtfSection)?;
        Self::parse(section)
    }

    /// Parses split BTF (a kernel module's) on top of `base` (vmlinux).
    pub fn parse_split(data: &[u8], base: Arc<Btf>) -> Result<Btf, BtfError> {
        Self::parse_owned(data.to_vec(), Some(base))
    }

    /// Parses a blob the caller already owns, without copying it.
    pub fn parse_owned(data: Vec<u8>, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        Self::parse_bytes(data.into(), base, false)
    }

    /// `core_index`: build the name index of the CO-RE kinds in the same pass as the type
    /// index (kernel BTF read from a file is parsed for CO-RE), instead of on first lookup.
    fn parse_bytes(
        data: BtfBytes,
        base: Option<Arc<Btf>>,
        core_index: bool,
    ) -> Result<Btf, BtfError> {
        let layout = Layout::read(&data)?;
        let (types_start, types_end) = (layout.types.start, layout.types.end);
        let (strs_start, strs_end) = (layout.strings.start, layout.strings.end);
        let strs = &data[strs_start..strs_end];
        check_string_table(strs, base.is_none())?;
        let (first_id, str_base) = match &base {
            Some(b) => (b.end_id(), b.str_end()),
            None => (1, 0),
        };
        // Standalone BTF only: a split blob's names may live in its base's string table.
        let mut core_names = (core_index && base.is_none()).then(Vec::new);
        let offsets = index_types(
            &data[..types_end],
            types_start,
            first_id,
            core_names.as_mut().map(|names| (strs, names)),
        )?;
        let names: [OnceLock<NameIndex>; 2] = Default::default();
        if let Some(core_names) = core_names {
            let _ = names[0].set(NameIndex::from_hashes(offsets.len(), &core_names));
        }
        Ok(Btf {
            data,
            types_start,
            types_end,
            strs_start,
            strs_end,
            offsets,
            first_id,
            str_base,
            base,
            names,
        })
    }

    /// Parses BTF held in shared bytes without copying them (a memory-mapped
    /// `/sys/kernel/btf/vmlinux`, or a module's split BTF on top of `base`); they are copied
    /// only if the BTF is then modified. Standalone BTF shared so is the kernel's, parsed for
    /// CO-RE: the names CO-RE looks up are indexed in the same pass as the types.
    pub fn parse_shared(bytes: SharedBytes, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        Self::parse_bytes(BtfBytes::shared(bytes), base, true)
    }

    /// The base BTF of split BTF.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// First type id defined by this blob (1, or the base's type count for split BTF).
    pub fn first_id(&self) -> u32 {
        self.first_id
    }

    /// One past the last valid type id (ids `0..end_id()` are valid, 0 being `void`).
    pub fn end_id(&self) -> u32 {
        self.first_id + self.offsets.len() as u32
    }

    /// Number of types including `void` and any base types.
    pub fn len(&self) -> u32 {
        self.end_id()
    }

    /// True when no type besides `void` exists.
    pub fn is_empty(&self) -> bool {
        self.end_id() <= 1
    }

    fn str_end(&self) -> u32 {
        self.str_base + (self.strs_end - self.strs_start) as u32
    }

    pub(crate) fn strings(&self) -> &[u8] {
        &self.data[self.strs_start..self.strs_end]
    }

    pub(crate) fn types_bytes(&self) -> &[u8] {
        &self.data[self.types_start..self.types_end]
    }

    /// The NUL-terminated string at `offset` of the string table (base's for low offsets).
    #[inline]
    pub fn string_at(&self, offset: u32) -> Result<&str, BtfError> {
        let bytes = self.string_bytes_at(offset)?;
        std::str::from_utf8(bytes).map_err(|_| BtfError::InvalidString(offset))
    }

    #[inline]
    pub(crate) fn string_bytes_at(&self, offset: u32) -> Result<&[u8], BtfError> {
        if offset < self.str_base {
            return match &self.base {
                Some(b) => b.string_bytes_at(offset),
                None => Err(BtfError::StringOffsetOutOfRange(offset)),
            };
        }
        let local = (offset - self.str_base) as usize;
        let strs = self.strings();
        let tail = strs
            .get(local..)
            .filter(|t| !t.is_empty())
            .ok_or(BtfError::StringOffsetOutOfRange(offset))?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or(BtfError::UnterminatedString(offset))?;
        Ok(&tail[..end])
    }

    /// The raw record of type `id`, from this blob or its base.
    #[inline]
    pub(crate) fn raw(&self, id: u32) -> Result<RawType<'_>, BtfError> {
        if id == 0 {
            return Ok(RawType {
                name_off: 0,
                info: 0,
                size_or_type: 0,
                extra: &[],
            });
        }
        if id < self.first_id {
            return match &self.base {
                Some(b) => b.raw(id),
                None => Err(self.out_of_range(id)),
            };
        }
        let off = *self
            .offsets
            .get((id - self.first_id) as usize)
            .ok_or_else(|| self.out_of_range(id))? as usize;
        let d = &self.data;
        let info = read_u32(d, off + 4);
        let kind = BtfKind::from_raw((info >> 24) & 0x1f).unwrap_or(BtfKind::Void);
        let extra_len = kind.extra_len(info & 0xffff);
        let extra = d.get(off + 12..off + 12 + extra_len).unwrap_or(&[]);
        Ok(RawType {
            name_off: read_u32(d, off),
            info,
            size_or_type: read_u32(d, off + 8),
            extra,
        })
    }

    fn out_of_range(&self, id: u32) -> BtfError {
        BtfError::TypeIdOutOfRange {
            id,
            first: 0,
            end: self.end_id(),
        }
    }

    /// The kind of type `id`.
    pub fn kind(&self, id: u32) -> Result<BtfKind, BtfError> {
        Ok(self.raw(id)?.kind())
    }

    /// Type `id` decoded into a typed view.
    #[inline]
    pub fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError> {
        let raw = self.raw(id)?;
        let name = self.string_at(raw.name_off)?;
        Ok(Type {
            id,
            name,
            kind: self.decode_kind(id, &raw),
        })
    }

    /// The typed view of record `raw` of type `id`; composites, enums and prototypes keep
    /// their entries undecoded, read on demand.
    fn decode_kind<'a>(&'a self, id: u32, raw: &RawType<'a>) -> TypeKind<'a> {
        let t = raw.size_or_type;
        match raw.kind() {
            BtfKind::Void => TypeKind::Void,
            BtfKind::Int => TypeKind::Int(raw.int()),
            BtfKind::Ptr => TypeKind::Ptr { target: t },
            BtfKind::Array => TypeKind::Array(raw.array()),
            BtfKind::Struct => TypeKind::Struct(self.composite(id, raw)),
            BtfKind::Union => TypeKind::Union(self.composite(id, raw)),
            BtfKind::Enum => TypeKind::Enum(self.enumerators(id, raw, false)),
            BtfKind::Enum64 => TypeKind::Enum64(self.enumerators(id, raw, true)),
            BtfKind::Fwd => TypeKind::Fwd {
                is_union: raw.kind_flag(),
            },
            BtfKind::Typedef => TypeKind::Typedef { target: t },
            BtfKind::Volatile => TypeKind::Volatile { target: t },
            BtfKind::Const => TypeKind::Const { target: t },
            BtfKind::Restrict => TypeKind::Restrict { target: t },
            BtfKind::Func => TypeKind::Func {
                proto: t,
                linkage: FuncLinkage::from_raw(raw.vlen() as u16),
            },
            BtfKind::FuncProto => TypeKind::FuncProto(FuncProto {
                ret: t,
                raw: raw.extra,
                strings: self,
                id,
            }),
            BtfKind::Var => TypeKind::Var {
                target: t,
                linkage: VarLinkage::from_raw(read_u32(raw.extra, 0)),
            },
            BtfKind::Datasec => TypeKind::Datasec(Datasec {
                size: t,
                raw: raw.extra,
            }),
            BtfKind::Float => TypeKind::Float { size: t },
            BtfKind::DeclTag => TypeKind::DeclTag {
                target: t,
                component_idx: read_u32(raw.extra, 0) as i32,
            },
            BtfKind::TypeTag => TypeKind::TypeTag { target: t },
        }
    }

    /// A `STRUCT` or `UNION` record as a view of its members.
    fn composite<'a>(&'a self, id: u32, raw: &RawType<'a>) -> Composite<'a> {
        Composite {
            size: raw.size_or_type,
            kind_flag: raw.kind_flag(),
            raw: raw.extra,
            strings: self,
            id,
        }
    }

    /// An `ENUM` (`is64` false) or `ENUM64` record as a view of its enumerators.
    fn enumerators<'a>(&'a self, id: u32, raw: &RawType<'a>, is64: bool) -> Enum<'a> {
        Enum {
            size: raw.size_or_type,
            signed: raw.kind_flag(),
            is64,
            raw: raw.extra,
            strings: self,
            id,
        }
    }

    /// Name of type `id` (empty for anonymous types).
    #[inline]
    pub fn type_name(&self, id: u32) -> Result<&str, BtfError> {
        self.string_at(self.raw(id)?.name_off)
    }

    /// Follows typedef, const, volatile, restrict and type tags to the underlying type id.
    #[inline]
    pub fn resolve(&self, id: u32) -> Result<u32, BtfError> {
        let mut cur = id;
        for _ in 0..=MAX_RESOLVE_DEPTH {
            let raw = self.raw(cur)?;
            if !raw.kind().is_modifier() {
                return Ok(cur);
            }
            cur = raw.size_or_type;
        }
        Err(BtfError::ReferenceLoop { id })
    }

    /// `resolve` then decode.
    #[inline]
    pub fn resolve_type(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.type_by_id(self.resolve(id)?)
    }

    /// Size in bytes of a value of type `id`, following modifiers and multiplying arrays out.
    pub fn type_size(&self, id: u32) -> Result<u32, BtfError> {
        let mut cur = id;
        let mut multiplier: u64 = 1;
        for _ in 0..=MAX_RESOLVE_DEPTH {
            let raw = self.raw(cur)?;
            let size = match raw.kind() {
                BtfKind::Int
                | BtfKind::Struct
                | BtfKind::Union
                | BtfKind::Enum
                | BtfKind::Enum64
                | BtfKind::Datasec
                | BtfKind::Float => raw.size_or_type,
                BtfKind::Ptr => POINTER_SIZE,
                BtfKind::Typedef
                | BtfKind::Volatile
                | BtfKind::Const
                | BtfKind::Restrict
                | BtfKind::Var
                | BtfKind::DeclTag
                | BtfKind::TypeTag => {
                    cur = raw.size_or_type;
                    continue;
                }
                BtfKind::Array => {
                    multiplier = multiplier
                        .checked_mul(u64::from(read_u32(raw.extra, 8)))
                        .filter(|m| *m <= u64::from(u32::MAX))
                        .ok_or(BtfError::SizeOverflow { id })?;
                    cur = read_u32(raw.extra, 0);
                    continue;
                }
                BtfKind::Void | BtfKind::Fwd | BtfKind::Func | BtfKind::FuncProto => {
                    return Err(BtfError::NoSize { id: cur });
                }
            };
            let total = multiplier * u64::from(size);
            return u32::try_from(total).map_err(|_| BtfError::SizeOverflow { id });
        }
        Err(BtfError::ReferenceLoop { id })
    }

    /// Alignment in bytes of type `id` (1 for packed composites), as a C compiler for BPF would use.
    pub fn type_align(&self, id: u32) -> Result<u32, BtfError> {
        self.type_align_depth(id, 0)
    }

    fn type_align_depth(&self, id: u32, depth: usize) -> Result<u32, BtfError> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(BtfError::ReferenceLoop { id });
        }
        let raw = self.raw(id)?;
        match raw.kind() {
            BtfKind::Int | BtfKind::Enum | BtfKind::Enum64 | BtfKind::Float => {
                Ok(raw.size_or_type.clamp(1, POINTER_SIZE))
            }
            BtfKind::Ptr => Ok(POINTER_SIZE),
            BtfKind::Typedef
            | BtfKind::Volatile
            | BtfKind::Const
            | BtfKind::Restrict
            | BtfKind::TypeTag
            | BtfKind::Var
            | BtfKind::DeclTag => self.type_align_depth(raw.size_or_type, depth + 1),
            BtfKind::Array => self.type_align_depth(read_u32(raw.extra, 0), depth + 1),
            BtfKind::Struct | BtfKind::Union => {
                let Type {
                    kind: TypeKind::Struct(c) | TypeKind::Union(c),
                    ..
                } = self.type_by_id(id)?
                else {
                    return Err(BtfError::UnexpectedKind {
                        id,
                        expected: "struct or union",
                        found: raw.kind(),
                    });
                };
                let mut align = 1;
                for m in c.members() {
                    let m = m?;
                    let a = self.type_align_depth(m.type_id, depth + 1)?;
                    // A member placed off its natural alignment means the struct is packed.
                    if m.bitfield_size == 0 && m.bit_offset % (a * 8) != 0 {
                        return Ok(1);
                    }
                    align = align.max(a);
                }
                if c.size % align != 0 {
                    return Ok(1);
                }
                Ok(align)
            }
            _ => Err(BtfError::NoSize { id }),
        }
    }

    /// All type ids (from `first_id` of the root base) whose name is exactly `name`.
    pub fn ids_by_name<'s>(&'s self, name: &'s str) -> impl Iterator<Item = u32> + 's {
        let base_ids: Box<dyn Iterator<Item = u32> + 's> = match &self.base {
            Some(b) => Box::new(b.ids_by_name(name)),
            None => Box::new(std::iter::empty()),
        };
        base_ids.chain(
            self.ids_by_essential_name(essential_name(name.as_bytes()))
                .filter(move |&id| {
                    self.raw(id)
                        .ok()
                        .and_then(|r| self.string_bytes_at(r.name_off).ok())
                        == Some(name.as_bytes())
                }),
        )
    }

    /// The first type named `name` of `kind` (the base's first, for split BTF). Only the
    /// name index of `kind`'s group is built.
    pub fn find_by_name_kind(&self, name: &str, kind: BtfKind) -> Option<u32> {
        if let Some(id) = self
            .base
            .as_ref()
            .and_then(|b| b.find_by_name_kind(name, kind))
        {
            return Some(id);
        }
        let group = NameIndex::group_of(kind as u8);
        self.ids_in_group(group, essential_name(name.as_bytes()))
            .find(|&id| {
                self.raw(id).ok().is_some_and(|r| {
                    r.kind() == kind
                        && self.string_bytes_at(r.name_off).ok() == Some(name.as_bytes())
                })
            })
    }

    /// Ids defined by this blob (not its base) whose name minus any `___flavor` suffix may equal
    /// `essential` (same hash bucket); callers compare names themselves.
    pub(crate) fn ids_by_essential_name<'s>(
        &'s self,
        essential: &[u8],
    ) -> impl Iterator<Item = u32> + 's {
        let core = self.ids_in_group(0, essential);
        core.chain(self.ids_in_group(1, essential))
    }

    /// Like `ids_by_essential_name`, restricted to kinds CO-RE candidates can have.
    pub(crate) fn core_candidate_ids<'s>(
        &'s self,
        essential: &[u8],
    ) -> impl Iterator<Item = u32> + 's {
        self.ids_in_group(0, essential)
    }

    fn ids_in_group<'s>(
        &'s self,
        group: usize,
        essential: &[u8],
    ) -> impl Iterator<Item = u32> + 's {
        let index = self.names[group].get_or_init(|| NameIndex::build(self, group));
        let mut entry = index.first(hash_bytes(essential));
        std::iter::from_fn(move || {
            let &(idx, next) = index.entries.get(entry as usize)?;
            entry = next;
            Some(self.first_id + idx)
        })
    }

    /// Serialises to the layout the kernel's `BTF_LOAD` expects: header, types, strings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let types = self.types_bytes();
        let strs = self.strings();
        let mut out = Vec::with_capacity(HEADER_LEN + types.len() + strs.len());
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.push(1);
        out.push(0);
        for v in [
            HEADER_LEN as u32,
            0,
            types.len() as u32,
            types.len() as u32,
            strs.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(types);
        out.extend_from_slice(strs);
        out
    }

    // ---- in-place mutation used by fix-ups and sanitisation ----

    /// Absolute offset of the record of an id this blob defines.
    pub(crate) fn record_offset(&self, id: u32) -> Result<usize, BtfError> {
        if id < self.first_id {
            return Err(self.out_of_range(id));
        }
        self.offsets
            .get((id - self.first_id) as usize)
            .map(|&o| o as usize)
            .ok_or_else(|| self.out_of_range(id))
    }

    pub(crate) fn own_ids(&self) -> std::ops::Range<u32> {
        self.first_id..self.end_id()
    }

    /// Overwrites the `info` word (kind, vlen, flag) of a record; the new kind must keep its length.
    pub(crate) fn set_info(
        &mut self,
        id: u32,
        kind: BtfKind,
        kind_flag: bool,
        vlen: u32,
    ) -> Result<(), BtfError> {
        let off = self.record_offset(id)?;
        let info = (u32::from(kind_flag) << 31) | (kind.raw() << 24) | (vlen & 0xffff);
        write_u32(self.data.to_mut(), off + 4, info);
        self.names = Default::default();
        Ok(())
    }

    pub(crate) fn set_name_off(&mut self, id: u32, name_off: u32) -> Result<(), BtfError> {
        let off = self.record_offset(id)?;
        write_u32(self.data.to_mut(), off, name_off);
        self.names = Default::default();
        Ok(())
    }

    pub(crate) fn set_size_or_type(&mut self, id: u32, value: u32) -> Result<(), BtfError> {
        let off = self.record_offset(id)?;
        write_u32(self.data.to_mut(), off + 8, value);
        Ok(())
    }

    /// Writes the `index`-th u32 of the data following a record's common header.
    pub(crate) fn set_extra_u32(
        &mut self,
        id: u32,
        index: usize,
        value: u32,
    ) -> Result<(), BtfError> {
        let raw = self.raw(id)?;
        if (index + 1) * 4 > raw.extra.len() {
            return Err(BtfError::IndexOutOfRange {
                id,
                index: index as u32,
            });
        }
        let off = self.record_offset(id)?;
        write_u32(self.data.to_mut(), off + 12 + index * 4, value);
        Ok(())
    }

    /// Mutable bytes of a string (without its NUL) this blob owns.
    pub(crate) fn string_bytes_mut(&mut self, offset: u32) -> Result<&mut [u8], BtfError> {
        let len = self.string_bytes_at(offset)?.len();
        let local = offset
            .checked_sub(self.str_base)
            .ok_or(BtfError::StringOffsetOutOfRange(offset))? as usize;
        let start = self.strs_start + local;
        self.names = Default::default();
        Ok(&mut self.data.to_mut()[start..start + len])
    }

    /// Appends a string to the table (reusing an identical one) and returns its offset.
    pub fn add_string(&mut self, s: &str) -> u32 {
        if let Some(pos) = find_string(self.strings(), s.as_bytes()) {
            return self.str_base + pos as u32;
        }
        let offset = self.str_end();
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        self.insert_at(self.strs_end, &bytes, false);
        offset
    }

    /// Appends a raw type record (12-byte header plus its kind's data) and returns its id.
    pub(crate) fn add_raw_type(&mut self, record: &[u8]) -> u32 {
        let id = self.end_id();
        let at = self.types_end;
        self.insert_at(at, record, true);
        self.offsets.push(at as u32);
        self.names = Default::default();
        id
    }

    /// Inserts bytes at the end of one section, shifting the other if it lies after it.
    fn insert_at(&mut self, at: usize, bytes: &[u8], into_types: bool) {
        self.data.to_mut().splice(at..at, bytes.iter().copied());
        let n = bytes.len();
        if into_types {
            self.types_end += n;
            if self.strs_start >= at {
                self.strs_start += n;
                self.strs_end += n;
            }
        } else {
            self.strs_end += n;
            if self.types_start >= at {
                self.types_start += n;
                self.types_end += n;
                for o in &mut self.offsets {
                    *o += n as u32;
                }
            }
        }
    }

    /// Adds an `INT` type and returns its id.
    pub fn add_int(&mut self, name: &str, size: u32, encoding: u8, bits: u8) -> u32 {
        let name_off = self.add_string(name);
        let mut rec = Vec::with_capacity(16);
        for v in [
            name_off,
            BtfKind::Int.raw() << 24,
            size,
            (u32::from(encoding) << 24) | u32::from(bits),
        ] {
            rec.extend_from_slice(&v.to_le_bytes());
        }
        self.add_raw_type(&rec)
    }
}

/// Where a blob's type and string sections lie, as its header says (absolute offsets).
struct Layout {
    types: std::ops::Range<usize>,
    strings: std::ops::Range<usize>,
}

impl Layout {
    /// Checks the header (magic, byte order, version, length) and that both sections lie within
    /// `data`, apart, and below 4 GiB (type offsets are kept as u32).
    fn read(data: &[u8]) -> Result<Layout, BtfError> {
        let hdr_len = check_header(data)?;
        let types = section_bounds(data, hdr_len, 8, "type section")?;
        let strings = section_bounds(data, hdr_len, 16, "string section")?;
        if types.start < strings.end && strings.start < types.end {
            return Err(BtfError::BadHeader("type and string sections overlap"));
        }
        if types.end > u32::MAX as usize {
            return Err(BtfError::BadHeader("BTF larger than 4 GiB"));
        }
        Ok(Layout { types, strings })
    }
}

/// The header's length, once its magic, byte order and version are known good.
fn check_header(data: &[u8]) -> Result<usize, BtfError> {
    let hdr = data.get(..HEADER_LEN).ok_or(BtfError::Truncated {
        what: "header",
        offset: 0,
        needed: HEADER_LEN,
        available: data.len(),
    })?;
    check_magic_and_version(hdr)?;
    let hdr_len = read_u32(hdr, 4) as usize;
    if hdr_len < HEADER_LEN || hdr_len > data.len() {
        return Err(BtfError::BadHeader("hdr_len out of range"));
    }
    Ok(hdr_len)
}

/// The magic (little-endian) and version 1 that start both `.BTF` and `.BTF.ext` headers
/// (`hdr` holds at least their 3 bytes).
pub(crate) fn check_magic_and_version(hdr: &[u8]) -> Result<(), BtfError> {
    let magic = u16::from_le_bytes([hdr[0], hdr[1]]);
    if magic != MAGIC {
        return Err(if magic == MAGIC.swap_bytes() {
            BtfError::BigEndian
        } else {
            BtfError::BadMagic(magic)
        });
    }
    if hdr[2] != 1 {
        return Err(BtfError::BadVersion(hdr[2]));
    }
    Ok(())
}

/// The absolute bounds of the section whose offset and length (relative to the end of the
/// header) the header holds at `field`, checked to lie within `data`.
fn section_bounds(
    data: &[u8],
    hdr_len: usize,
    field: usize,
    what: &'static str,
) -> Result<std::ops::Range<usize>, BtfError> {
    let (off, len) = (read_u32(data, field), read_u32(data, field + 4));
    let start = hdr_len
        .checked_add(off as usize)
        .ok_or(BtfError::BadHeader(what))?;
    let end = start
        .checked_add(len as usize)
        .ok_or(BtfError::BadHeader(what))?;
    if end > data.len() {
        return Err(BtfError::Truncated {
            what,
            offset: start,
            needed: len as usize,
            available: data.len().saturating_sub(start),
        });
    }
    Ok(start..end)
}

/// A string table is NUL-terminated and, unless it continues a base's, starts with "".
fn check_string_table(strs: &[u8], standalone: bool) -> Result<(), BtfError> {
    if standalone && strs.first() != Some(&0) {
        return Err(BtfError::BadHeader(
            "string section must start with an empty string",
        ));
    }
    if strs.last().is_some_and(|&b| b != 0) {
        return Err(BtfError::BadHeader("string section is not NUL-terminated"));
    }
    Ok(())
}

fn find_string(strs: &[u8], s: &[u8]) -> Option<usize> {
    let mut pos = 0;
    for part in strs.split(|&b| b == 0) {
        if part == s {
            return Some(pos);
        }
        pos += part.len() + 1;
        if pos >= strs.len() {
            break;
        }
    }
    None
}

/// A named type's index (`id - first_id`) and essential name hash.
type NameHash = (u32, u64);

/// Per raw kind: bytes after the 12-byte header, fixed and per `vlen` entry (0xff: invalid).
const RECORD_FIXED_LEN: [u8; 32] = {
    let mut t = [0xffu8; 32];
    let mut k = 1;
    while k < 20 {
        t[k] = match k {
            1 | 14 | 17 => 4,
            3 => 12,
            _ => 0,
        };
        k += 1;
    }
    t
};
const RECORD_ENTRY_LEN: [u8; 32] = {
    let mut t = [0u8; 32];
    t[4] = 12;
    t[5] = 12;
    t[15] = 12;
    t[19] = 12;
    t[6] = 8;
    t[13] = 8;
    t
};

/// Offsets of every type record in `data[start..]`, checking each record fits and has a known
/// kind. With `core_names` (a standalone blob's string table and a vector), also collects
/// `(index, essential name hash)` of the named types of the CO-RE kinds, while each record's
/// header is at hand.
// Kept out of line: inlined into `parse_bytes` it runs measurably slower.
#[inline(never)]
fn index_types(
    data: &[u8],
    start: usize,
    first_id: u32,
    mut core_names: Option<(&[u8], &mut Vec<NameHash>)>,
) -> Result<Vec<u32>, BtfError> {
    let end = data.len();
    if end - start > (u32::MAX as usize) {
        return Err(BtfError::BadHeader("type section too large"));
    }
    // Records average ~24 bytes in kernel BTF; guess to avoid regrowing.
    let mut offsets = Vec::with_capacity((end - start) / 24 + 16);
    let mut off = start;
    while off < end {
        let Some(hdr) = data.get(off..off + 12) else {
            return Err(BtfError::Truncated {
                what: "type record",
                offset: off,
                needed: 12,
                available: end - off,
            });
        };
        let info = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let Some(len) = record_len(info) else {
            return Err(BtfError::UnknownKind {
                id: first_id.saturating_add(offsets.len() as u32),
                kind: (info >> 24) & 0x1f,
            });
        };
        if len > end - off {
            return Err(BtfError::Truncated {
                what: "type record",
                offset: off,
                needed: len,
                available: end - off,
            });
        }
        if let Some((strs, names)) = core_names.as_mut() {
            let name_off = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
            if name_off != 0
                && NameIndex::group_of((info >> 24) as u8) == 0
                && let Some(tail) = strs.get(name_off as usize..)
            {
                names.push((offsets.len() as u32, essential_name_hash(tail)));
            }
        }
        offsets.push(off as u32);
        off += len;
    }
    if offsets.len() >= (u32::MAX - first_id) as usize {
        return Err(BtfError::BadHeader("too many types"));
    }
    Ok(offsets)
}

/// Length of a type record (its 12-byte header and its kind's data) whose header holds `info`;
/// None for an unknown kind.
#[inline(always)]
fn record_len(info: u32) -> Option<usize> {
    let raw_kind = ((info >> 24) & 0x1f) as usize;
    let fixed = RECORD_FIXED_LEN[raw_kind];
    if fixed == 0xff {
        return None;
    }
    let entries = usize::from(RECORD_ENTRY_LEN[raw_kind]) * (info & 0xffff) as usize;
    Some(12 + usize::from(fixed) + entries)
}

/// A type's name without a `___flavor` suffix (the part up to an `X___Y` separator).
pub fn essential_name(name: &[u8]) -> &[u8] {
    let n = name.len();
    if n >= 5 {
        for i in (0..=n - 5).rev() {
            if name[i] != b'_'
                && name[i + 1] == b'_'
                && name[i + 2] == b'_'
                && name[i + 3] == b'_'
                && name[i + 4] != b'_'
            {
                return &name[..=i];
            }
        }
    }
    name
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const UNDERSCORES: u64 = 0x5f5f_5f5f_5f5f_5f5f;

fn le_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

/// The high bit of each zero byte of `word` (exact up to and including the first zero byte).
#[inline]
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// Key of a name in the name index: its length and first and last eight bytes, mixed. Cheap
/// enough for every named type of vmlinux; collisions only lengthen a chain, and lookups
/// compare the names themselves.
#[inline]
pub(crate) fn hash_bytes(name: &[u8]) -> u64 {
    let len = name.len();
    let (head, tail) = if len >= 8 {
        (le_u64(name), le_u64(&name[len - 8..]))
    } else {
        let mut word = [0u8; 8];
        word[..len].copy_from_slice(name);
        (u64::from_le_bytes(word), 0)
    };
    let h = (head ^ (len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0xff51_afd7_ed55_8ccd);
    let h = (h ^ (h >> 32) ^ tail).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 29)
}

/// `hash_bytes` of the essential part (without a `___flavor` suffix) of the NUL-terminated name
/// at `bytes[0]`. Finds the end eight bytes at a time; a name with three underscores in a row
/// (rare) takes the exact `essential_name` path.
fn essential_name_hash(bytes: &[u8]) -> u64 {
    let mut len = 0;
    let mut previous_top = 0u128;
    let mut maybe_flavored = false;
    while let Some(chunk) = bytes.get(len..len + 8) {
        let word = le_u64(chunk);
        let zeros = zero_bytes(word);
        let before_end = if zeros == 0 {
            u64::MAX
        } else {
            (zeros & zeros.wrapping_neg()) - 1
        };
        let unders = zero_bytes(word ^ UNDERSCORES) & before_end;
        // The previous word's last two bytes sit below this word's, for runs across the boundary.
        let run = (u128::from(unders) << 16) | previous_top;
        maybe_flavored |= run & (run >> 8) & (run >> 16) != 0;
        previous_top = u128::from(unders >> 48);
        if zeros != 0 {
            let name = &bytes[..len + (zeros.trailing_zeros() / 8) as usize];
            return if maybe_flavored {
                hash_bytes(essential_name(name))
            } else {
                hash_bytes(name)
            };
        }
        len += 8;
    }
    let end = bytes[len..]
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes.len(), |at| len + at);
    hash_bytes(essential_name(&bytes[..end]))
}

/// Chains of this blob's named types by bucket of essential-name hash, built on first lookup.
/// Sized by the named types of the group, not all types: fresh pages are costly to touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NameIndex {
    mask: u64,
    /// First entry of each bucket, `u32::MAX` when empty.
    heads: Vec<u32>,
    /// `(index (id - first_id), next entry in the same bucket or u32::MAX)`.
    entries: Vec<(u32, u32)>,
}

impl NameIndex {
    /// Kinds CO-RE matches (ints, composites, enums, fwds, typedefs, floats), as a bit set.
    const CORE_KINDS: u32 = 1 << 1 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 16 | 1 << 19;

    /// Group 0: kinds CO-RE matches; 1: the rest.
    fn group_of(kind: u8) -> usize {
        usize::from(Self::CORE_KINDS >> (kind & 0x1f) & 1 == 0)
    }

    fn build(btf: &Btf, group: usize) -> NameIndex {
        let data: &[u8] = &btf.data;
        // Name offset and info of a record as one word: most records are skipped on these.
        let header = |off: u32| {
            let bytes = data.get(off as usize..off as usize + 8)?;
            Some(u64::from_le_bytes(bytes.try_into().ok()?))
        };
        let named = |h: &u64| *h as u32 != 0 && Self::group_of((h >> 56) as u8) == group;
        // In kernel BTF about one type in eight is named and of the CO-RE group.
        let n = btf.offsets.len();
        let buckets = (n / 4).next_power_of_two().max(16);
        let mut index = NameIndex {
            mask: buckets as u64 - 1,
            heads: vec![u32::MAX; buckets],
            entries: Vec::with_capacity(n / 8 + 16),
        };
        let strs = btf.strings();
        // Walk backwards so chains come out in ascending id order.
        for (idx, &off) in btf.offsets.iter().enumerate().rev() {
            let Some(h) = header(off).filter(named) else {
                continue;
            };
            let name_off = h as u32;
            let hash = match name_off
                .checked_sub(btf.str_base)
                .and_then(|l| strs.get(l as usize..))
            {
                Some(tail) => essential_name_hash(tail),
                None => match btf.string_bytes_at(name_off) {
                    Ok(name) => hash_bytes(essential_name(name)),
                    Err(_) => continue,
                },
            };
            let bucket = index.bucket(hash);
            let entry = index.entries.len() as u32;
            index.entries.push((idx as u32, index.heads[bucket]));
            index.heads[bucket] = entry;
        }
        index
    }

    /// The index of `hashes` (`(index, essential name hash)` in ascending index order) for a
    /// blob of `types` types, as [`build`](Self::build) makes it.
    fn from_hashes(types: usize, hashes: &[(u32, u64)]) -> NameIndex {
        let buckets = (types / 4).next_power_of_two().max(16);
        let mut index = NameIndex {
            mask: buckets as u64 - 1,
            heads: vec![u32::MAX; buckets],
            entries: Vec::with_capacity(hashes.len()),
        };
        // Backwards, so chains come out in ascending id order.
        for &(idx, hash) in hashes.iter().rev() {
            let bucket = index.bucket(hash);
            let entry = index.entries.len() as u32;
            index.entries.push((idx, index.heads[bucket]));
            index.heads[bucket] = entry;
        }
        index
    }

    fn bucket(&self, hash: u64) -> usize {
        ((hash ^ (hash >> 32)) & self.mask) as usize
    }

    fn first(&self, hash: u64) -> u32 {
        self.heads
            .get(self.bucket(hash))
            .copied()
            .unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CO-RE name index that `from_file` builds in the type-index pass is the one the first
    /// lookup would have built.
    #[test]
    fn core_name_index_built_with_the_types_equals_the_lazy_one() {
        let path = "/sys/kernel/btf/vmlinux";
        let Ok(bytes) = std::fs::read(path) else {
            println!(
                "SKIPPED bpf_core::core_name_index_built_with_the_types_equals_the_lazy_one: no {path}"
            );
            return;
        };
        let eager = Btf::parse_bytes(bytes.clone().into(), None, true).unwrap();
        let lazy = Btf::parse(&bytes).unwrap();
        assert!(lazy.names[0].get().is_none(), "lazy until the first lookup");
        let built = NameIndex::build(&lazy, 0);
        assert!(
            built.entries.len() > 1000,
            "kernel BTF has many named types"
        );
        assert_eq!(eager.names[0].get(), Some(&built));
        assert_eq!(
            eager.find_by_name_kind("task_struct", BtfKind::Struct),
            lazy.find_by_name_kind("task_struct", BtfKind::Struct)
        );
    }

    /// The word-at-a-time hash of a NUL-terminated name equals the plain one of its essential
    /// part, wherever the name ends and wherever `___` falls relative to word boundaries.
    #[test]
    fn essential_name_hash_matches_the_plain_hash() {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for len in 0..24 {
            names.push(b"abcdefghijklmnopqrstuvwxyz"[..len].to_vec());
        }
        for at in 0..18 {
            for flavor in [&b"___old"[..], b"____x", b"__y", b"___", b"___v2___v3"] {
                let mut name = b"task_struct_and_more"[..at.min(20)].to_vec();
                name.extend_from_slice(flavor);
                names.push(name);
            }
        }
        for name in names {
            let expected = hash_bytes(essential_name(&name));
            for padding in [&b""[..], b"\x01\x01\x01\x01\x01\x01\x01\x01", b"___x___y"] {
                let mut table = name.clone();
                table.push(0);
                table.extend_from_slice(padding);
                assert_eq!(
                    essential_name_hash(&table),
                    expected,
                    "{:?}",
                    String::from_utf8_lossy(&name)
                );
            }
            // A name running to the end of the table without its NUL.
            assert_eq!(essential_name_hash(&name), expected);
        }
    }
}
