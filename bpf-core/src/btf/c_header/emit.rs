//! Writing definitions: forward declarations where a definition is still being written, then
//! structs, unions, enums and typedefs with their members, bitfields and padding.

use std::fmt::Write;

use super::name_counts::Namespace;
use super::{CHeaderError, CWriter, EmitState, MAX_DEPTH, POINTER_BITS, indent};
use crate::btf::{Composite, Enum, Type, TypeKind};

/// Longest gap filled with padding members (1 MiB, 131072 lines of `long: 64;`); a longer one
/// comes from a corrupted size, not from a C type.
const MAX_PADDING_BITS: i64 = 8 << 20;

/// Padding members, widest first: `long: 64;` and so on.
const PADS: [(&str, i64); 4] = [
    ("long", POINTER_BITS),
    ("int", 32),
    ("short", 16),
    ("char", 8),
];

fn roundup(value: i64, to: i64) -> i64 {
    if to <= 0 {
        value
    } else {
        (value + to - 1) / to * to
    }
}

/// GCC-internal base types some BTF names; each gets a typedef to the standard type.
const MISSING_BASE_TYPES: [(&str, &str); 4] = [
    ("__Poly8_t", "unsigned char"),
    ("__Poly16_t", "unsigned short"),
    ("__Poly64_t", "unsigned long long"),
    ("__Poly128_t", "unsigned __int128"),
];

impl CWriter<'_> {
    /// Writes the definition of `id` and the forward declarations it needs. `container` is the
    /// named struct being defined around it (0 at top level).
    pub(super) fn emit_type(
        &mut self,
        id: u32,
        container: u32,
        out: &mut dyn Write,
        depth: usize,
    ) -> Result<(), CHeaderError> {
        if depth > MAX_DEPTH {
            return Err(CHeaderError::TooDeep { id });
        }
        let index = self.state_index(id)?;
        let state = self.states[index];
        if state.emit == EmitState::Emitted {
            return Ok(());
        }
        let top_level = container == 0;
        let t = self.btf.type_by_id(id)?;
        if state.emit == EmitState::Emitting {
            // Referred to while its own definition is being written.
            if !state.fwd_emitted {
                self.emit_forward_declaration(t, container, out)?;
            }
            return Ok(());
        }
        match t.kind {
            TypeKind::Int(_) => {
                let name = self.tag_name(id)?;
                if let Some((_, standard)) =
                    MISSING_BASE_TYPES.iter().find(|(n, _)| *n == name.as_ref())
                {
                    write!(out, "typedef {standard} {name};\n\n")?;
                }
                self.states[index].emit = EmitState::Emitted;
            }
            TypeKind::Enum(e) | TypeKind::Enum64(e) => {
                if top_level {
                    self.emit_enum_def(id, e, 0, out)?;
                    out.write_str(";\n\n")?;
                }
                self.states[index].emit = EmitState::Emitted;
            }
            TypeKind::Ptr { target }
            | TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target } => self.emit_type(target, container, out, depth + 1)?,
            TypeKind::Array(a) => self.emit_type(a.elem, container, out, depth + 1)?,
            TypeKind::Fwd { is_union } => {
                let name = self.tag_name(id)?;
                let keyword = if is_union { "union" } else { "struct" };
                write!(out, "{keyword} {name};\n\n")?;
                self.states[index].emit = EmitState::Emitted;
            }
            TypeKind::Typedef { target } => {
                self.states[index].emit = EmitState::Emitting;
                self.emit_type(target, id, out, depth + 1)?;
                if !self.states[index].fwd_emitted && !self.is_builtin(t.name) {
                    self.emit_typedef_def(id, t.name, target, 0, out)?;
                    out.write_str(";\n\n")?;
                }
                self.states[index].emit = EmitState::Emitted;
            }
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                self.emit_composite(t, c, container, out, depth)?;
            }
            TypeKind::FuncProto(p) => {
                self.emit_type(p.ret, container, out, depth + 1)?;
                for param in p.params() {
                    self.emit_type(param?.type_id, container, out, depth + 1)?;
                }
            }
            TypeKind::Void
            | TypeKind::Func { .. }
            | TypeKind::Var { .. }
            | TypeKind::Datasec(_)
            | TypeKind::Float { .. }
            | TypeKind::DeclTag { .. } => {}
        }
        Ok(())
    }

    /// Declares `t`, whose definition is being written, ahead of it: a struct or union by its
    /// tag (`struct foo;`), a typedef in full, as it serves pointers to it before its target is
    /// complete.
    fn emit_forward_declaration(
        &mut self,
        t: Type<'_>,
        container: u32,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let id = t.id;
        match t.kind {
            TypeKind::Struct(_) | TypeKind::Union(_) => {
                if id == container || t.name.is_empty() {
                    return Ok(());
                }
                self.emit_struct_fwd(id, out)?;
                out.write_str(";\n\n")?;
            }
            TypeKind::Typedef { target } => {
                if !self.is_builtin(t.name) {
                    self.emit_typedef_def(id, t.name, target, 0, out)?;
                    out.write_str(";\n\n")?;
                }
            }
            _ => return Ok(()),
        }
        self.states[id as usize].fwd_emitted = true;
        Ok(())
    }

    /// A struct or union: at top level, what its members refer to and then its definition;
    /// inside `container`, what an anonymous one's members refer to, or a named one's forward
    /// declaration (its definition comes at top level).
    fn emit_composite(
        &mut self,
        t: Type<'_>,
        c: Composite<'_>,
        container: u32,
        out: &mut dyn Write,
        depth: usize,
    ) -> Result<(), CHeaderError> {
        let id = t.id;
        let index = id as usize;
        let top_level = container == 0;
        let named = !t.name.is_empty();
        self.states[index].emit = EmitState::Emitting;
        // A definition written out in full needs what its members refer to declared.
        if top_level || !named {
            let inner = if named { id } else { container };
            for m in c.members() {
                self.emit_type(m?.type_id, inner, out, depth + 1)?;
            }
        } else if !self.states[index].fwd_emitted && id != container {
            self.emit_struct_fwd(id, out)?;
            out.write_str(";\n\n")?;
            self.states[index].fwd_emitted = true;
        }
        if top_level {
            self.emit_struct_def(id, c, 0, out)?;
            out.write_str(";\n\n")?;
            self.states[index].emit = EmitState::Emitted;
        } else {
            self.states[index].emit = EmitState::NotEmitted;
        }
        Ok(())
    }

    /// `__builtin_va_list` is the compiler's own: redefining it fails to compile.
    fn is_builtin(&self, name: &str) -> bool {
        name == "__builtin_va_list"
    }

    pub(super) fn emit_struct_fwd(
        &mut self,
        id: u32,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let keyword = match self.btf.type_by_id(id)?.kind {
            TypeKind::Union(_) => "union",
            _ => "struct",
        };
        let name = self.tag_name(id)?;
        let space = if name.is_empty() { "" } else { " " };
        write!(out, "{keyword}{space}{name}")?;
        Ok(())
    }

    pub(super) fn emit_fwd_def(
        &mut self,
        id: u32,
        is_union: bool,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let name = self.tag_name(id)?;
        let keyword = if is_union { "union" } else { "struct" };
        write!(out, "{keyword} {name}")?;
        Ok(())
    }

    /// A struct is packed when a plain member sits off its natural alignment or the size is not
    /// a multiple of the alignment; a packed struct laid out naturally is written unpacked.
    fn is_packed(&self, c: &Composite<'_>) -> Result<bool, CHeaderError> {
        let mut max_align = 1;
        for m in c.members() {
            let m = m?;
            let align = self.align_of(m.type_id);
            if align != 0 && m.bitfield_size == 0 && m.bit_offset % (8 * align) != 0 {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(c.size.checked_rem(max_align) != Some(0))
    }

    /// Size in bytes the compiler gives type `id` as this header spells it: its BTF size, but
    /// for `__builtin_va_list`, which the header leaves to the compiler and which is a pointer
    /// on BPF (24 bytes on x86-64, whose BTF this usually is). Padding after a member makes up
    /// the difference. 0 for types without a size.
    fn c_size(&self, id: u32) -> i64 {
        let mut cur = id;
        let mut count: i64 = 1;
        for _ in 0..MAX_DEPTH {
            let Ok(t) = self.btf.type_by_id(cur) else {
                return 0;
            };
            match t.kind {
                TypeKind::Typedef { .. } if self.is_builtin(t.name) => return count * 8,
                TypeKind::Typedef { target }
                | TypeKind::Const { target }
                | TypeKind::Volatile { target }
                | TypeKind::Restrict { target }
                | TypeKind::TypeTag { target } => cur = target,
                TypeKind::Array(a) => {
                    count = count.saturating_mul(i64::from(a.nelems));
                    cur = a.elem;
                }
                _ => {
                    let size = self.btf.type_size(cur).map_or(0, i64::from);
                    return count.saturating_mul(size);
                }
            }
        }
        0
    }

    /// Alignment in bytes as the BPF target lays types out, 0 for types without one.
    pub(super) fn align_of(&self, id: u32) -> u32 {
        self.btf.type_align(id).unwrap_or(0)
    }

    /// Padding members from bit `from` to bit `to`, so the compiler places the next member
    /// (aligned to `next_align` bytes) exactly there.
    #[allow(clippy::too_many_arguments)]
    fn emit_bit_padding(
        &self,
        owner: u32,
        from: i64,
        to: i64,
        next_align: i64,
        in_bitfield: bool,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        if from >= to {
            return Ok(());
        }
        if to - from > MAX_PADDING_BITS {
            return Err(CHeaderError::Padding {
                id: owner,
                bytes: (to - from) / 8,
            });
        }
        let mut cur = from;
        let (mut pad_type, mut pad_bits, mut aligned_at) = ("char", 8, 0);
        // The widest padding type whose alignment boundary falls inside the gap.
        for (name, bits) in PADS {
            pad_type = name;
            pad_bits = bits;
            aligned_at = roundup(cur, bits);
            if aligned_at <= to {
                break;
            }
        }
        if aligned_at > cur && aligned_at <= to {
            // An explicit `type: 0` when the compiler would not align there by itself, or when a
            // `type: N` would fit in the hole before the boundary and be placed there.
            if in_bitfield
                || (aligned_at == to && roundup(cur, next_align * 8) != aligned_at)
                || (aligned_at != to && to - aligned_at <= aligned_at - cur)
            {
                let width = if in_bitfield { aligned_at - cur } else { 0 };
                write!(out, "\n{}{pad_type}: {width};", indent(lvl))?;
            }
            cur = aligned_at;
        }
        while cur != to {
            let bits = (to - cur).min(pad_bits);
            if bits == pad_bits {
                write!(out, "\n{}{pad_type}: {pad_bits};", indent(lvl))?;
                cur += bits;
                continue;
            }
            // The remainder in the narrowest type that holds it.
            for (name, width) in PADS.iter().rev() {
                if *width < bits {
                    continue;
                }
                pad_type = name;
                pad_bits = *width;
                write!(out, "\n{}{name}: {bits};", indent(lvl))?;
                cur += bits;
                break;
            }
        }
        Ok(())
    }

    pub(super) fn emit_struct_def(
        &mut self,
        id: u32,
        c: Composite<'_>,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let is_struct = matches!(self.btf.type_by_id(id)?.kind, TypeKind::Struct(_));
        let align = self.align_of(id);
        // A union is packed too when its size is no multiple of its members' alignment (bpftool
        // checks structs only, and its header then gets such a union's size wrong).
        let packed = self.is_packed(&c)?;
        self.emit_struct_fwd(id, out)?;
        out.write_str(" {")?;
        let mut off: i64 = 0;
        let mut union_end: i64 = 0;
        let mut prev_bitfield = false;
        for m in c.members() {
            let m = m?;
            let m_align = if packed { 1 } else { self.align_of(m.type_id) };
            let m_off = i64::from(m.bit_offset);
            let in_bitfield = prev_bitfield && m.bitfield_size != 0;
            self.emit_bit_padding(
                id,
                off,
                m_off,
                i64::from(m_align),
                in_bitfield,
                lvl + 1,
                out,
            )?;
            write!(out, "\n{}", indent(lvl + 1))?;
            self.emit_type_decl(m.type_id, m.name, lvl + 1, out)?;
            if m.bitfield_size != 0 {
                write!(out, ": {}", m.bitfield_size)?;
                off = m_off + i64::from(m.bitfield_size);
                prev_bitfield = true;
            } else {
                off = m_off + self.c_size(m.type_id) * 8;
                prev_bitfield = false;
            }
            union_end = union_end.max(off);
            out.write_str(";")?;
        }
        let size_bits = i64::from(c.size) * 8;
        if is_struct {
            self.emit_bit_padding(id, off, size_bits, i64::from(align), false, lvl + 1, out)?;
        } else if roundup(union_end, i64::from(align.max(1)) * 8) < size_bits {
            // A union larger than its members (an aligned or trimmed one): an unnamed struct of
            // padding keeps its size, where bpftool's header would shrink it.
            write!(out, "\n{}struct {{", indent(lvl + 1))?;
            self.emit_bit_padding(id, 0, size_bits, 1, false, lvl + 2, out)?;
            write!(out, "\n{}}};", indent(lvl + 1))?;
        }
        // `struct empty {}` stays on one line.
        if !c.is_empty() || c.size != 0 {
            write!(out, "\n{}}}", indent(lvl))?;
        } else {
            out.write_str("}")?;
        }
        if packed {
            out.write_str(" __attribute__((packed))")?;
        }
        Ok(())
    }

    pub(super) fn emit_enum_fwd(
        &mut self,
        id: u32,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let name = self.tag_name(id)?;
        write!(out, "enum {name}")?;
        Ok(())
    }

    pub(super) fn emit_enum_def(
        &mut self,
        id: u32,
        e: Enum<'_>,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let name = self.tag_name(id)?;
        let space = if name.is_empty() { "" } else { " " };
        write!(out, "enum{space}{name}")?;
        if e.is_empty() {
            return Ok(());
        }
        out.write_str(" {")?;
        let is64 = matches!(self.btf.type_by_id(id)?.kind, TypeKind::Enum64(_));
        let mut high_bits = false;
        for v in e.values() {
            let v = v?;
            // Enumerators share the namespace of typedef names.
            let dups = self.names.count(Namespace::Idents, v.name);
            write!(out, "\n{}{}", indent(lvl + 1), v.name)?;
            if dups > 1 {
                write!(out, "___{dups}")?;
            }
            high_bits |= v.value >> 32 != 0;
            match (is64, e.signed) {
                (false, true) => write!(out, " = {},", v.value as u32 as i32)?,
                (false, false) => write!(out, " = {},", v.value as u32)?,
                (true, true) => write!(out, " = {}LL,", v.value as i64)?,
                (true, false) => write!(out, " = {}ULL,", v.value)?,
            }
        }
        write!(out, "\n{}}}", indent(lvl))?;
        if e.size == 1 {
            out.write_str(" __attribute__((mode(byte)))")?;
        } else if e.size == 8 && (!is64 || !high_bits) {
            // Only a value past 32 bits makes the compiler widen an enum to 8 bytes by itself.
            out.write_str(" __attribute__((mode(word)))")?;
        }
        Ok(())
    }

    pub(super) fn emit_typedef_def(
        &mut self,
        id: u32,
        btf_name: &str,
        target: u32,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let name = self.ident_name(id)?;
        // Old GCC describes `__gnuc_va_list` as a typedef of void.
        if target == 0 && btf_name == "__gnuc_va_list" {
            out.write_str("typedef __builtin_va_list __gnuc_va_list")?;
            return Ok(());
        }
        out.write_str("typedef ")?;
        self.emit_type_decl(target, &name, lvl, out)
    }
}
