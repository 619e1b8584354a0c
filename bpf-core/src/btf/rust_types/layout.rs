//! Laying a BTF type out as Rust items: fields at their BTF offsets with explicit padding,
//! bitfield runs in byte storage, unions as bytes, enums as newtypes.

use super::items::{
    Bitfield, BitfieldValue, EnumItem, Field, Item, StructItem, UnionItem, UnionMember,
};
use super::{RustTy, RustTypes, RustTypesError, ident};
use crate::btf::{Composite, Datasec, Enum, TypeKind, VarLinkage};

/// A member as laid out: plain at a byte offset, or a bitfield at a bit offset.
struct Placed {
    name: String,
    type_id: u32,
    bit_offset: u32,
    /// Width of a bitfield, 0 for a plain member.
    bits: u32,
}

fn align_type(align: u32) -> Option<String> {
    match align {
        2 => Some("u16".into()),
        4 => Some("u32".into()),
        8 => Some("u64".into()),
        _ => None,
    }
}

/// Picks a name not in `used`, starting from `wanted`.
fn unique(used: &mut Vec<String>, wanted: String) -> String {
    let mut name = wanted;
    while used.iter().any(|u| ident::bare(u) == ident::bare(&name)) {
        name = format!("{}_", ident::bare(&name));
    }
    used.push(name.clone());
    name
}

/// The end (exclusive) of the run of consecutive bitfields that starts at `members[start]`.
fn bitfield_run_end(members: &[Placed], start: usize) -> usize {
    let mut end = start + 1;
    while end < members.len() && members[end].bits != 0 {
        end += 1;
    }
    end
}

/// A struct's fields as they are laid out, front to back.
#[derive(Default)]
struct StructFields {
    fields: Vec<Field>,
    bitfields: Vec<Bitfield>,
    /// Names taken by members, padding and bitfield storage.
    used: Vec<String>,
    /// The byte the next field starts at, at the earliest.
    cur: u32,
    pads: u32,
    runs: u32,
}

impl StructFields {
    /// The Rust name of each member, claimed before padding and storage pick theirs; empty
    /// for an unnamed bitfield (C's way to skip bits), which gets no accessors.
    fn claim_member_names(&mut self, members: &[Placed]) -> Vec<String> {
        let mut anon_count = 0;
        let mut names = Vec::with_capacity(members.len());
        for m in members {
            let rust = if m.name.is_empty() && m.bits != 0 {
                String::new()
            } else {
                RustTypes::member_name(&m.name, &mut anon_count)
            };
            if !rust.is_empty() {
                self.used.push(rust.clone());
            }
            names.push(rust);
        }
        names
    }

    /// A padding field from the current end to byte `to`, if that leaves a gap.
    fn pad_to(&mut self, to: u32) {
        if to > self.cur {
            self.pads += 1;
            self.fields.push(Field {
                name: unique(&mut self.used, format!("_pad_{}", self.pads)),
                ty: format!("[u8; {}]", to - self.cur),
                offset: self.cur,
                align: 1,
                is_member: false,
            });
            self.cur = to;
        }
    }

    /// The byte-array field holding a bitfield run over bytes `start..stop`; returns its name.
    fn storage_field(&mut self, start: u32, stop: u32) -> String {
        self.runs += 1;
        let storage = unique(&mut self.used, format!("_bitfield_{}", self.runs));
        self.fields.push(Field {
            name: storage.clone(),
            ty: format!("[u8; {}]", stop - start),
            offset: start,
            align: 1,
            is_member: false,
        });
        storage
    }
}

/// The integer type an enum of `e`'s size and signedness is stored as.
fn enum_repr(e: &Enum<'_>) -> &'static str {
    match (e.size, e.signed) {
        (1, false) => "u8",
        (1, true) => "i8",
        (2, false) => "u16",
        (2, true) => "i16",
        (4, false) => "u32",
        (4, true) => "i32",
        (8, false) => "u64",
        _ => "i64",
    }
}

/// An enum as a newtype over its integer, one constant per enumerator with its value as a
/// literal of that integer (sign-extended from the enum's width when signed).
fn lay_out_enum(name: String, c_name: String, e: &Enum<'_>) -> Result<Item, RustTypesError> {
    let repr = enum_repr(e);
    let bits = 8 * e.size;
    let mut values = Vec::new();
    let mut used = Vec::new();
    for v in e.values() {
        let v = v?;
        let literal = if e.signed {
            let shift = 64 - bits;
            (((v.value << shift) as i64) >> shift).to_string()
        } else {
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            (v.value & mask).to_string()
        };
        values.push((unique(&mut used, ident::escape(v.name)), literal));
    }
    Ok(Item::Enum(EnumItem {
        name,
        c_name,
        repr: repr.into(),
        values,
    }))
}

impl RustTypes<'_> {
    pub(super) fn lay_out(&mut self, id: u32) -> Result<Item, RustTypesError> {
        let t = self.btf.type_by_id(id)?;
        let name = self.names.get(&id).cloned().unwrap_or_default();
        let keyword = |k: &str| {
            if t.name.is_empty() {
                format!("{k} (anonymous)")
            } else {
                format!("{k} {}", t.name)
            }
        };
        match t.kind {
            TypeKind::Struct(c) => {
                let members = self.placed_members(&c)?;
                self.lay_out_struct(id, name, keyword("struct"), members, c.size)
            }
            TypeKind::Datasec(sec) => {
                let (members, end) = self.datasec_globals(&sec)?;
                self.lay_out_struct(id, name, format!("section {}", t.name), members, end)
            }
            TypeKind::Union(c) => self.lay_out_union(id, name, keyword("union"), c),
            TypeKind::Enum(e) | TypeKind::Enum64(e) => lay_out_enum(name, keyword("enum"), &e),
            TypeKind::Typedef { target } => {
                let target = self.spell(target, None, 0)?;
                Ok(Item::Alias {
                    name,
                    c_name: format!("typedef {}", t.name),
                    target: target.text,
                })
            }
            _ => {
                Err(self
                    .unrepresentable(id, "only structs, unions, enums and typedefs are defined"))
            }
        }
    }

    /// A data section's global variables as members, and where the last one ends (past the
    /// section's size when BTF says so). Static and extern variables are left out.
    fn datasec_globals(&self, sec: &Datasec<'_>) -> Result<(Vec<Placed>, u32), RustTypesError> {
        let mut members = Vec::new();
        let mut end = sec.size;
        for v in sec.vars() {
            let var = self.btf.type_by_id(v.type_id)?;
            // The skeleton shows what user space shares: globals, not statics or externs.
            let TypeKind::Var {
                target,
                linkage: VarLinkage::Global,
            } = var.kind
            else {
                continue;
            };
            end = end.max(v.offset.saturating_add(v.size));
            members.push(Placed {
                name: var.name.to_owned(),
                type_id: target,
                bit_offset: v.offset.saturating_mul(8),
                bits: 0,
            });
        }
        Ok((members, end))
    }

    /// Members with their bit offsets and bitfield widths, including old-style bitfields that
    /// BTF describes by an `INT` narrower than its storage.
    fn placed_members(&self, c: &Composite<'_>) -> Result<Vec<Placed>, RustTypesError> {
        let mut placed = Vec::with_capacity(c.len());
        for m in c.members() {
            let m = m?;
            let mut bit_offset = m.bit_offset;
            let mut bits = m.bitfield_size;
            if bits == 0 {
                let resolved = self.btf.resolve(m.type_id)?;
                let narrow_int = match self.btf.type_by_id(resolved)?.kind {
                    TypeKind::Int(int)
                        if u32::from(int.bits) != int.size * 8 || int.offset != 0 =>
                    {
                        Some(int)
                    }
                    _ => None,
                };
                if let Some(int) = narrow_int {
                    bit_offset += u32::from(int.offset);
                    bits = u32::from(int.bits);
                }
            }
            placed.push(Placed {
                name: m.name.to_owned(),
                type_id: m.type_id,
                bit_offset,
                bits,
            });
        }
        Ok(placed)
    }

    /// Accessors for bitfield `m` in the byte field `storage` that starts at bit
    /// `storage_bit` of the type: they touch only the (at most nine) bytes the bits span.
    fn bitfield(
        &self,
        id: u32,
        name: String,
        storage: String,
        storage_bit: u32,
        m: &Placed,
        value: BitfieldValue,
    ) -> Result<Bitfield, RustTypesError> {
        if m.bits > 64 {
            return Err(self.unrepresentable(id, format!("bitfield {} wider than 64 bits", m.name)));
        }
        let from = m.bit_offset - storage_bit;
        Ok(Bitfield {
            name,
            storage,
            storage_start: from / 8,
            storage_len: (from % 8 + m.bits).div_ceil(8),
            shift: from % 8,
            width: m.bits,
            value,
        })
    }

    /// The getter's value kind for a bitfield of type `type_id`.
    fn bitfield_value(
        &mut self,
        type_id: u32,
        anon_name: &str,
    ) -> Result<BitfieldValue, RustTypesError> {
        let resolved = self.btf.resolve(type_id)?;
        let t = self.btf.type_by_id(resolved)?;
        Ok(match t.kind {
            TypeKind::Int(_) if t.name == "_Bool" || t.name == "bool" => BitfieldValue::Bool,
            TypeKind::Int(_) => {
                let ty = self.spell(resolved, None, 0)?.text;
                let signed = ty.starts_with('i');
                BitfieldValue::Int { ty, signed }
            }
            TypeKind::Enum(e) | TypeKind::Enum64(e) => {
                let ty = self.spell(type_id, Some(anon_name), 0)?.text;
                let repr = enum_repr(&e);
                BitfieldValue::Enum {
                    ty,
                    repr: repr.into(),
                }
            }
            _ => {
                return Err(self.unrepresentable(resolved, "a bitfield of a non-integer type"));
            }
        })
    }

    /// Name of a member in Rust: its own, or `anonN` for the N-th anonymous one.
    fn member_name(name: &str, anon_count: &mut u32) -> String {
        if name.is_empty() {
            *anon_count += 1;
            format!("anon{anon_count}")
        } else {
            ident::escape(name)
        }
    }

    /// A struct (or a data section's globals) with every gap an explicit padding field, each
    /// run of consecutive bitfields in a byte-array field of its own.
    fn lay_out_struct(
        &mut self,
        id: u32,
        name: String,
        c_name: String,
        members: Vec<Placed>,
        size: u32,
    ) -> Result<Item, RustTypesError> {
        let packed = self.is_packed(&members, size);
        let mut fields = StructFields::default();
        let names = fields.claim_member_names(&members);
        let mut i = 0;
        while i < members.len() {
            if members[i].bits != 0 {
                let end = bitfield_run_end(&members, i);
                let run = &members[i..end];
                self.lay_out_bitfield_run(id, &name, run, &names[i..end], &mut fields)?;
                i = end;
            } else {
                self.lay_out_member(id, &name, &members[i], names[i].clone(), &mut fields)?;
                i += 1;
            }
        }
        if fields.cur > size {
            return Err(self.unrepresentable(
                id,
                format!("members end at byte {}, past its size {size}", fields.cur),
            ));
        }
        fields.pad_to(size);
        let align_field = if packed {
            None
        } else {
            let natural = fields.fields.iter().map(|f| f.align).max().unwrap_or(1);
            let wanted = self.members_align(&members);
            (natural < wanted).then(|| align_type(wanted)).flatten()
        };
        Ok(Item::Struct(StructItem {
            name,
            c_name,
            size,
            packed,
            align_field,
            fields: fields.fields,
            bitfields: fields.bitfields,
        }))
    }

    /// A plain member at its byte offset, after padding up to it.
    fn lay_out_member(
        &mut self,
        id: u32,
        struct_name: &str,
        m: &Placed,
        rust: String,
        fields: &mut StructFields,
    ) -> Result<(), RustTypesError> {
        if !m.bit_offset.is_multiple_of(8) {
            return Err(self.unrepresentable(id, format!("member {} starts inside a byte", m.name)));
        }
        let offset = m.bit_offset / 8;
        if offset < fields.cur {
            return Err(self.unrepresentable(
                id,
                format!("member {} overlaps the member before it", m.name),
            ));
        }
        let anon = format!("{}_{}", ident::bare(struct_name), ident::bare(&rust));
        let ty = self.spell(m.type_id, Some(&anon), 0)?;
        fields.pad_to(offset);
        fields.fields.push(Field {
            name: rust,
            ty: ty.text,
            offset,
            align: ty.align,
            is_member: true,
        });
        fields.cur = offset.saturating_add(ty.size);
        Ok(())
    }

    /// A run of consecutive bitfields: one byte-array storage field over the bytes the run
    /// spans, and accessors for each named bitfield in it.
    fn lay_out_bitfield_run(
        &mut self,
        id: u32,
        struct_name: &str,
        run: &[Placed],
        names: &[String],
        fields: &mut StructFields,
    ) -> Result<(), RustTypesError> {
        let first_bit = run.iter().map(|m| m.bit_offset).min().unwrap_or(0);
        let last_bit = run
            .iter()
            .map(|m| m.bit_offset.saturating_add(m.bits))
            .max()
            .unwrap_or(0);
        let start = first_bit / 8;
        let stop = last_bit.div_ceil(8);
        if start < fields.cur {
            return Err(self.unrepresentable(
                id,
                format!("bitfield overlaps the member before it at byte {start}"),
            ));
        }
        fields.pad_to(start);
        let storage = fields.storage_field(start, stop);
        for (m, rust) in run.iter().zip(names) {
            if rust.is_empty() {
                continue;
            }
            let anon = format!("{}_{}", ident::bare(struct_name), ident::bare(rust));
            let value = self.bitfield_value(m.type_id, &anon)?;
            let bitfield = self.bitfield(id, rust.clone(), storage.clone(), start * 8, m, value)?;
            fields.bitfields.push(bitfield);
        }
        fields.cur = stop;
        Ok(())
    }

    /// A struct is packed when a plain member sits off its natural alignment or the size is not
    /// a multiple of the alignment (the C header writer decides the same way).
    fn is_packed(&self, members: &[Placed], size: u32) -> bool {
        let mut max_align = 1;
        for m in members {
            // A member without an alignment fails, more precisely, when spelled.
            let align = self.btf.type_align(m.type_id).unwrap_or(1);
            if m.bits == 0 && m.bit_offset % (8 * align) != 0 {
                return true;
            }
            max_align = max_align.max(align);
        }
        size.checked_rem(max_align) != Some(0)
    }

    /// The alignment C gives a struct of `members` that is not packed.
    fn members_align(&self, members: &[Placed]) -> u32 {
        members
            .iter()
            .map(|m| self.btf.type_align(m.type_id).unwrap_or(1))
            .max()
            .unwrap_or(1)
    }

    fn lay_out_union(
        &mut self,
        id: u32,
        name: String,
        c_name: String,
        c: Composite<'_>,
    ) -> Result<Item, RustTypesError> {
        let members = self.placed_members(&c)?;
        let mut used = vec!["bytes".to_owned()];
        let mut union_members = Vec::new();
        let mut bitfields = Vec::new();
        let mut anon_count = 0;
        for m in &members {
            if m.name.is_empty() && m.bits != 0 {
                continue;
            }
            let rust = unique(&mut used, Self::member_name(&m.name, &mut anon_count));
            let anon = format!("{}_{}", ident::bare(&name), ident::bare(&rust));
            if m.bits != 0 {
                let value = self.bitfield_value(m.type_id, &anon)?;
                if m.bit_offset.saturating_add(m.bits).div_ceil(8) > c.size {
                    return Err(self
                        .unrepresentable(id, format!("bitfield {} past the union's end", m.name)));
                }
                bitfields.push(self.bitfield(id, rust, "bytes".into(), 0, m, value)?);
                continue;
            }
            if m.bit_offset != 0 {
                return Err(
                    self.unrepresentable(id, format!("union member {} not at offset 0", m.name))
                );
            }
            let ty: RustTy = self.spell(m.type_id, Some(&anon), 0)?;
            if ty.size > c.size {
                return Err(
                    self.unrepresentable(id, format!("member {} larger than the union", m.name))
                );
            }
            union_members.push(UnionMember {
                name: rust,
                ty: ty.text,
                size: ty.size,
            });
        }
        let align = self.btf.type_align(id)?;
        let align_field = (c.size.checked_rem(align) == Some(0))
            .then(|| align_type(align))
            .flatten();
        Ok(Item::Union(UnionItem {
            name,
            c_name,
            size: c.size,
            align_field,
            members: union_members,
            bitfields,
        }))
    }
}
