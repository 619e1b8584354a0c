//! Which definitions a type needs before it, and in which order: a depth-first walk that tells
//! strong links (the size must be known: embedded members) from weak ones (a pointer to a named
//! type, satisfied by a forward declaration).

use super::{CHeaderError, CWriter, MAX_DEPTH, OrderState};
use crate::btf::{Composite, TypeKind};

impl CWriter<'_> {
    /// Marks every type some other type refers to: an anonymous enum nobody refers to is a
    /// top-level definition of constants, one referred to is written inline where it is used.
    pub(super) fn mark_referenced(&mut self) -> Result<(), CHeaderError> {
        for id in 1..self.btf.end_id() {
            let t = self.btf.type_by_id(id)?;
            let mut mark = |target: u32| {
                if let Some(state) = self.states.get_mut(target as usize) {
                    state.referenced = true;
                }
            };
            match t.kind {
                TypeKind::Array(a) => {
                    mark(a.index);
                    mark(a.elem);
                }
                TypeKind::Struct(c) | TypeKind::Union(c) => {
                    for m in c.members() {
                        mark(m?.type_id);
                    }
                }
                TypeKind::FuncProto(p) => {
                    for param in p.params() {
                        mark(param?.type_id);
                    }
                }
                TypeKind::Datasec(d) => {
                    for v in d.vars() {
                        mark(v.type_id);
                    }
                }
                TypeKind::Int(_)
                | TypeKind::Enum(_)
                | TypeKind::Enum64(_)
                | TypeKind::Fwd { .. }
                | TypeKind::Float { .. }
                | TypeKind::Void => {}
                kind => {
                    if let Some(target) = kind.target() {
                        mark(target);
                    }
                }
            }
        }
        Ok(())
    }

    /// Appends to the emit queue, dependencies first, every named definition `id` needs.
    /// Returns whether the link to `id` is strong (its definition must come first).
    pub(super) fn order_type(
        &mut self,
        id: u32,
        through_ptr: bool,
        depth: usize,
    ) -> Result<bool, CHeaderError> {
        if depth > MAX_DEPTH {
            return Err(CHeaderError::TooDeep { id });
        }
        let index = self.state_index(id)?;
        if self.states[index].order == OrderState::Ordered {
            return Ok(true);
        }
        let t = self.btf.type_by_id(id)?;
        let named = !t.name.is_empty();
        if self.states[index].order == OrderState::Ordering {
            // A loop through a pointer to a named struct or union: a forward declaration breaks it.
            if matches!(t.kind, TypeKind::Struct(_) | TypeKind::Union(_)) && through_ptr && named {
                return Ok(false);
            }
            return Err(CHeaderError::TypeCycle { id });
        }
        match t.kind {
            TypeKind::Void => Ok(true),
            TypeKind::Int(_) | TypeKind::Float { .. } => {
                self.states[index].order = OrderState::Ordered;
                Ok(false)
            }
            TypeKind::Ptr { target } => {
                let strong = self.order_type(target, true, depth + 1)?;
                self.states[index].order = OrderState::Ordered;
                Ok(strong)
            }
            TypeKind::Array(a) => self.order_type(a.elem, false, depth + 1),
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                self.order_composite(id, named, c, through_ptr, depth)
            }
            TypeKind::Enum(_) | TypeKind::Enum64(_) | TypeKind::Fwd { .. } => {
                if named || !self.states[index].referenced {
                    self.emit_queue.push(id);
                }
                self.states[index].order = OrderState::Ordered;
                Ok(true)
            }
            TypeKind::Typedef { target } => self.order_typedef(id, target, through_ptr, depth),
            TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target } => self.order_type(target, through_ptr, depth + 1),
            TypeKind::FuncProto(p) => {
                let mut strong = self.order_type(p.ret, through_ptr, depth + 1)?;
                for param in p.params() {
                    strong |= self.order_type(param?.type_id, through_ptr, depth + 1)?;
                }
                Ok(strong)
            }
            TypeKind::Func { .. }
            | TypeKind::Var { .. }
            | TypeKind::Datasec(_)
            | TypeKind::DeclTag { .. } => {
                self.states[index].order = OrderState::Ordered;
                Ok(false)
            }
        }
    }

    /// A struct or union: reached through a pointer, a named one needs only a forward
    /// declaration (a weak link); otherwise its members' definitions come first, then its own.
    fn order_composite(
        &mut self,
        id: u32,
        named: bool,
        c: Composite<'_>,
        through_ptr: bool,
        depth: usize,
    ) -> Result<bool, CHeaderError> {
        if through_ptr && named {
            return Ok(false);
        }
        let index = id as usize;
        self.states[index].order = OrderState::Ordering;
        for m in c.members() {
            self.order_type(m?.type_id, false, depth + 1)?;
        }
        if named {
            self.emit_queue.push(id);
        }
        self.states[index].order = OrderState::Ordered;
        Ok(true)
    }

    /// A typedef comes after what it names; behind a pointer to a type only declared forward,
    /// the link stays weak and the typedef is not queued yet.
    fn order_typedef(
        &mut self,
        id: u32,
        target: u32,
        through_ptr: bool,
        depth: usize,
    ) -> Result<bool, CHeaderError> {
        let strong = self.order_type(target, through_ptr, depth + 1)?;
        if through_ptr && !strong {
            return Ok(false);
        }
        self.emit_queue.push(id);
        self.states[id as usize].order = OrderState::Ordered;
        Ok(true)
    }
}
