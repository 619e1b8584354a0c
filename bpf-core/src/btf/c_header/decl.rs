//! Declarations in C syntax: `const char *name`, `int (*handler)(void *)`, `struct x *arr[4]`.
//!
//! BTF chains run from the outside in (`array → ptr → const → int`) while C writes qualifiers
//! left of base types but right of `*`, and wraps arrays and function pointers in parentheses.
//! The chain is pushed onto a stack down to its base type, then written back from the base out.

use std::fmt::Write;

use super::{CHeaderError, CWriter, MAX_DEPTH};
use crate::btf::{FuncProto, Type, TypeKind};

impl CWriter<'_> {
    /// Writes a declaration of `name` (may be empty) with type `id`; anonymous structs, unions
    /// and enums are defined inline at indentation `lvl`.
    pub(super) fn emit_type_decl(
        &mut self,
        id: u32,
        name: &str,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        if self.decl_depth > MAX_DEPTH {
            return Err(CHeaderError::TooDeep { id });
        }
        self.decl_depth += 1;
        let start = self.decl_stack.len();
        let mut cur = id;
        loop {
            self.decl_stack.push(cur);
            if self.decl_stack.len() - start > MAX_DEPTH {
                self.decl_stack.truncate(start);
                self.decl_depth -= 1;
                return Err(CHeaderError::TooDeep { id });
            }
            if cur == 0 {
                break;
            }
            let next = match self.btf.type_by_id(cur)?.kind {
                TypeKind::Ptr { target }
                | TypeKind::Volatile { target }
                | TypeKind::Const { target }
                | TypeKind::Restrict { target }
                | TypeKind::TypeTag { target } => target,
                TypeKind::FuncProto(p) => p.ret,
                TypeKind::Array(a) => a.elem,
                TypeKind::Int(_)
                | TypeKind::Enum(_)
                | TypeKind::Enum64(_)
                | TypeKind::Fwd { .. }
                | TypeKind::Struct(_)
                | TypeKind::Union(_)
                | TypeKind::Typedef { .. }
                | TypeKind::Float { .. } => break,
                kind => {
                    self.decl_stack.truncate(start);
                    self.decl_depth -= 1;
                    return Err(CHeaderError::NotADeclaration {
                        id: cur,
                        kind: kind.kind(),
                    });
                }
            };
            cur = next;
        }
        let result = self.emit_type_chain(start, name, lvl, out);
        self.decl_stack.truncate(start);
        self.decl_depth -= 1;
        result
    }

    /// Pops and writes `const`/`volatile`/`restrict` standing directly above the stack's top.
    fn emit_mods(&mut self, start: usize, out: &mut dyn Write) -> Result<(), CHeaderError> {
        while self.decl_stack.len() > start {
            let id = self.decl_stack[self.decl_stack.len() - 1];
            let word = match self.btf.type_by_id(id)?.kind {
                TypeKind::Volatile { .. } => "volatile ",
                TypeKind::Const { .. } => "const ",
                TypeKind::Restrict { .. } => "restrict ",
                _ => return Ok(()),
            };
            out.write_str(word)?;
            self.decl_stack.pop();
        }
        Ok(())
    }

    /// Drops qualifiers C cannot express where they stand (on arrays and functions).
    fn drop_mods(&mut self, start: usize) -> Result<(), CHeaderError> {
        while self.decl_stack.len() > start {
            let id = self.decl_stack[self.decl_stack.len() - 1];
            if !matches!(
                self.btf.type_by_id(id)?.kind,
                TypeKind::Volatile { .. }
                    | TypeKind::Const { .. }
                    | TypeKind::Restrict { .. }
                    | TypeKind::TypeTag { .. }
            ) {
                return Ok(());
            }
            self.decl_stack.pop();
        }
        Ok(())
    }

    fn emit_chain_name(
        name: &str,
        last_was_ptr: bool,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        if !name.is_empty() && !last_was_ptr {
            out.write_char(' ')?;
        }
        out.write_str(name)?;
        Ok(())
    }

    /// Writes the type a declaration starts from: a primitive, a typedef's name, a named
    /// struct, union or enum by its tag, an anonymous one defined inline at indentation `lvl`.
    fn emit_base_type(
        &mut self,
        t: Type<'_>,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        let id = t.id;
        match t.kind {
            TypeKind::Int(_) | TypeKind::Float { .. } => out.write_str(t.name)?,
            TypeKind::Struct(c) | TypeKind::Union(c) if t.name.is_empty() => {
                self.emit_struct_def(id, c, lvl, out)?;
            }
            TypeKind::Struct(_) | TypeKind::Union(_) => self.emit_struct_fwd(id, out)?,
            TypeKind::Enum(e) | TypeKind::Enum64(e) if t.name.is_empty() => {
                self.emit_enum_def(id, e, lvl, out)?;
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) => self.emit_enum_fwd(id, out)?,
            TypeKind::Fwd { is_union } => self.emit_fwd_def(id, is_union, out)?,
            TypeKind::Typedef { .. } => {
                let name = self.ident_name(id)?;
                out.write_str(&name)?;
            }
            kind => {
                return Err(CHeaderError::NotADeclaration {
                    id,
                    kind: kind.kind(),
                });
            }
        }
        Ok(())
    }

    fn emit_type_chain(
        &mut self,
        start: usize,
        name: &str,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        // No space before a `*` that follows another (`int **`), nor before a function pointer's.
        let mut last_was_ptr = true;
        while self.decl_stack.len() > start {
            let id = self.decl_stack.pop().unwrap_or(0);
            if id == 0 {
                self.emit_mods(start, out)?;
                out.write_str("void")?;
                last_was_ptr = false;
                continue;
            }
            let t = self.btf.type_by_id(id)?;
            match t.kind {
                TypeKind::Int(_)
                | TypeKind::Float { .. }
                | TypeKind::Struct(_)
                | TypeKind::Union(_)
                | TypeKind::Enum(_)
                | TypeKind::Enum64(_)
                | TypeKind::Fwd { .. }
                | TypeKind::Typedef { .. } => {
                    self.emit_mods(start, out)?;
                    self.emit_base_type(t, lvl, out)?;
                }
                TypeKind::Ptr { .. } => out.write_str(if last_was_ptr { "*" } else { " *" })?,
                TypeKind::Volatile { .. } => out.write_str(" volatile")?,
                TypeKind::Const { .. } => out.write_str(" const")?,
                TypeKind::Restrict { .. } => out.write_str(" restrict")?,
                TypeKind::TypeTag { .. } => {
                    self.emit_mods(start, out)?;
                    if self.btf.raw(id)?.kind_flag() {
                        write!(out, " __attribute__(({}))", t.name)?;
                    } else {
                        write!(out, " __attribute__((btf_type_tag(\"{}\")))", t.name)?;
                    }
                }
                TypeKind::Array(a) => {
                    return self.emit_array_declarator(
                        start,
                        a.nelems,
                        name,
                        last_was_ptr,
                        lvl,
                        out,
                    );
                }
                TypeKind::FuncProto(p) => {
                    return self.emit_func_proto_declarator(
                        start,
                        &p,
                        name,
                        last_was_ptr,
                        lvl,
                        out,
                    );
                }
                kind => {
                    return Err(CHeaderError::NotADeclaration {
                        id,
                        kind: kind.kind(),
                    });
                }
            }
            last_was_ptr = matches!(t.kind, TypeKind::Ptr { .. });
        }
        Self::emit_chain_name(name, last_was_ptr, out)
    }

    /// The declarator of an array of what remains on the stack: `name[4]`, `(*name)[4]`,
    /// `name[2][4]`.
    fn emit_array_declarator(
        &mut self,
        start: usize,
        nelems: u32,
        name: &str,
        last_was_ptr: bool,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        // Qualifiers on the array itself (a GCC habit) have no C spelling: dropped.
        self.drop_mods(start)?;
        if self.decl_stack.len() == start {
            Self::emit_chain_name(name, last_was_ptr, out)?;
            write!(out, "[{nelems}]")?;
            return Ok(());
        }
        let next = self.decl_stack[self.decl_stack.len() - 1];
        let multidim = matches!(self.btf.type_by_id(next)?.kind, TypeKind::Array(_));
        if !name.is_empty() && !last_was_ptr {
            out.write_char(' ')?;
        }
        if !multidim {
            out.write_char('(')?;
        }
        self.emit_type_chain(start, name, lvl, out)?;
        if !multidim {
            out.write_char(')')?;
        }
        write!(out, "[{nelems}]")?;
        Ok(())
    }

    /// The declarator of a function returning what the prototype says, with what remains on
    /// the stack around the name (`(*name)`), and its parameter list.
    fn emit_func_proto_declarator(
        &mut self,
        start: usize,
        proto: &FuncProto<'_>,
        name: &str,
        last_was_ptr: bool,
        lvl: usize,
        out: &mut dyn Write,
    ) -> Result<(), CHeaderError> {
        // GCC marks noreturn function pointers volatile: dropped likewise.
        self.drop_mods(start)?;
        if self.decl_stack.len() > start {
            out.write_str(" (")?;
            self.emit_type_chain(start, name, lvl, out)?;
            out.write_char(')')?;
        } else {
            Self::emit_chain_name(name, last_was_ptr, out)?;
        }
        out.write_char('(')?;
        let n = proto.len();
        // No parameters, or clang's lone `void` one: `(void)`.
        if n == 0 || (n == 1 && proto.param(0)?.type_id == 0) {
            out.write_str("void)")?;
            return Ok(());
        }
        for i in 0..n {
            let param = proto.param(i)?;
            if i > 0 {
                out.write_str(", ")?;
            }
            // A trailing `void` parameter marks a variadic function.
            if i == n - 1 && param.type_id == 0 {
                out.write_str("...")?;
                break;
            }
            self.emit_type_decl(param.type_id, param.name, lvl, out)?;
        }
        out.write_char(')')?;
        Ok(())
    }
}
