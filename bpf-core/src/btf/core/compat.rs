//! Type compatibility rules of CO-RE: field compatibility, type compatibility and type matching.

use super::super::error::BtfError;
use super::super::kind::BtfKind;
use super::super::parse::{Btf, MAX_RESOLVE_DEPTH, essential_name};
use super::super::types::{Composite, Enum, FuncProto, TypeKind};

/// Kinds that can relocate against each other (ENUM and ENUM64 are interchangeable).
#[inline]
pub(crate) fn kinds_compat(a: BtfKind, b: BtfKind) -> bool {
    a == b
        || (matches!(a, BtfKind::Enum | BtfKind::Enum64)
            && matches!(b, BtfKind::Enum | BtfKind::Enum64))
}

fn names_essentially_equal(a: &str, b: &str) -> bool {
    essential_name(a.as_bytes()) == essential_name(b.as_bytes())
}

/// Whether a local field's type can be read as the target field's type.
pub(crate) fn fields_are_compat(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
) -> Result<bool, BtfError> {
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..=MAX_RESOLVE_DEPTH {
        let lt = local.resolve_type(lid)?;
        let tt = targ.resolve_type(tid)?;
        let (lk, tk) = (lt.kind.kind(), tt.kind.kind());
        if matches!(lk, BtfKind::Struct | BtfKind::Union)
            && matches!(tk, BtfKind::Struct | BtfKind::Union)
        {
            return Ok(true);
        }
        if !kinds_compat(lk, tk) {
            return Ok(false);
        }
        return Ok(match (lt.kind, tt.kind) {
            (TypeKind::Ptr { .. }, _) | (TypeKind::Float { .. }, _) => true,
            (TypeKind::Fwd { .. } | TypeKind::Enum(_) | TypeKind::Enum64(_), _) => {
                let (ln, tn) = (
                    essential_name(lt.name.as_bytes()),
                    essential_name(tt.name.as_bytes()),
                );
                ln.is_empty() || tn.is_empty() || ln == tn
            }
            (TypeKind::Int(l), TypeKind::Int(t)) => l.offset == 0 && t.offset == 0,
            (TypeKind::Array(l), TypeKind::Array(t)) => {
                lid = l.elem;
                tid = t.elem;
                continue;
            }
            _ => false,
        });
    }
    Err(BtfError::ReferenceLoop { id: local_id })
}

/// Looser compatibility used by type-based relocations (`bpf_core_type_exists` and friends).
pub(crate) fn types_are_compat(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
) -> Result<bool, BtfError> {
    types_are_compat_level(local, local_id, targ, targ_id, MAX_RESOLVE_DEPTH)
}

fn types_are_compat_level(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
    level: usize,
) -> Result<bool, BtfError> {
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..=MAX_RESOLVE_DEPTH {
        let lt = local.resolve_type(lid)?;
        let tt = targ.resolve_type(tid)?;
        if !kinds_compat(lt.kind.kind(), tt.kind.kind()) {
            return Ok(false);
        }
        match (lt.kind, tt.kind) {
            (
                TypeKind::Void
                | TypeKind::Struct(_)
                | TypeKind::Union(_)
                | TypeKind::Enum(_)
                | TypeKind::Fwd { .. }
                | TypeKind::Enum64(_),
                _,
            ) => {
                return Ok(true);
            }
            (TypeKind::Int(l), TypeKind::Int(t)) => return Ok(l.offset == 0 && t.offset == 0),
            (TypeKind::Ptr { target: l }, TypeKind::Ptr { target: t }) => {
                lid = l;
                tid = t;
            }
            (TypeKind::Array(l), TypeKind::Array(t)) => {
                lid = l.elem;
                tid = t.elem;
            }
            (TypeKind::FuncProto(l), TypeKind::FuncProto(t)) => {
                if l.len() != t.len() {
                    return Ok(false);
                }
                if level == 0 {
                    return Err(BtfError::ReferenceLoop { id: local_id });
                }
                for i in 0..l.len() {
                    if !types_are_compat_level(
                        local,
                        l.param(i)?.type_id,
                        targ,
                        t.param(i)?.type_id,
                        level - 1,
                    )? {
                        return Ok(false);
                    }
                }
                lid = l.ret;
                tid = t.ret;
            }
            _ => return Ok(false),
        }
    }
    Err(BtfError::ReferenceLoop { id: local_id })
}

fn names_match(local: &str, targ: &str) -> bool {
    local.is_empty() || targ.is_empty() || names_essentially_equal(local, targ)
}

/// Strict structural match used by `bpf_core_type_matches`.
pub(crate) fn types_match(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
) -> Result<bool, BtfError> {
    types_match_level(local, local_id, targ, targ_id, false, MAX_RESOLVE_DEPTH)
}

fn enums_match(l: &Enum<'_>, t: &Enum<'_>) -> Result<bool, BtfError> {
    if l.size != t.size || l.len() > t.len() {
        return Ok(false);
    }
    for i in 0..l.len() {
        let ln = l.value(i)?.name;
        let mut found = false;
        for j in 0..t.len() {
            if names_match(ln, t.value(j)?.name) {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

fn members_match(
    local: &Btf,
    l: &Composite<'_>,
    targ: &Btf,
    t: &Composite<'_>,
    behind_ptr: bool,
    level: usize,
) -> Result<bool, BtfError> {
    if l.len() > t.len() {
        return Ok(false);
    }
    for i in 0..l.len() {
        let lm = l.member(i)?;
        let mut found = false;
        for j in 0..t.len() {
            let tm = t.member(j)?;
            if !names_match(lm.name, tm.name) {
                continue;
            }
            if types_match_level(local, lm.type_id, targ, tm.type_id, behind_ptr, level - 1)? {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

fn types_match_level(
    local: &Btf,
    local_id: u32,
    targ: &Btf,
    targ_id: u32,
    mut behind_ptr: bool,
    level: usize,
) -> Result<bool, BtfError> {
    if level == 0 {
        return Err(BtfError::ReferenceLoop { id: local_id });
    }
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..=MAX_RESOLVE_DEPTH {
        let lt = local.resolve_type(lid)?;
        let tt = targ.resolve_type(tid)?;
        if !names_match(lt.name, tt.name) {
            return Ok(false);
        }
        match (lt.kind, tt.kind) {
            (TypeKind::Void, _) => return Ok(tt.kind.kind() == BtfKind::Void),
            (TypeKind::Fwd { is_union }, _) => {
                return Ok(fwd_matches(is_union, &tt.kind, behind_ptr));
            }
            (TypeKind::Enum(l) | TypeKind::Enum64(l), TypeKind::Enum(t) | TypeKind::Enum64(t)) => {
                return enums_match(&l, &t);
            }
            (TypeKind::Enum(_) | TypeKind::Enum64(_), _) => return Ok(false),
            (TypeKind::Struct(l) | TypeKind::Union(l), _) => {
                let is_union = lt.kind.kind() == BtfKind::Union;
                return composite_matches(local, is_union, &l, targ, &tt.kind, behind_ptr, level);
            }
            (TypeKind::Int(l), TypeKind::Int(t)) => {
                return Ok(l.size == t.size && l.is_signed() == t.is_signed());
            }
            (TypeKind::Ptr { target: l }, TypeKind::Ptr { target: t }) => {
                behind_ptr = true;
                lid = l;
                tid = t;
            }
            (TypeKind::Array(l), TypeKind::Array(t)) => {
                if l.nelems != t.nelems {
                    return Ok(false);
                }
                lid = l.elem;
                tid = t.elem;
            }
            (TypeKind::FuncProto(l), TypeKind::FuncProto(t)) => {
                if !params_match(local, &l, targ, &t, behind_ptr, level)? {
                    return Ok(false);
                }
                lid = l.ret;
                tid = t.ret;
            }
            _ => return Ok(false),
        }
    }
    Err(BtfError::ReferenceLoop { id: local_id })
}

/// A local forward declaration matches a forward of the same flavour, or (behind a pointer,
/// where the layout does not matter) a struct or union of that flavour.
fn fwd_matches(is_union: bool, targ: &TypeKind<'_>, behind_ptr: bool) -> bool {
    match targ {
        TypeKind::Fwd { is_union: t } => *t == is_union,
        TypeKind::Struct(_) if behind_ptr => !is_union,
        TypeKind::Union(_) if behind_ptr => is_union,
        _ => false,
    }
}

/// A local struct or union matches one of the same kind whose members match by name and type;
/// behind a pointer the kind alone (or a forward declaration of it) is enough.
fn composite_matches(
    local: &Btf,
    is_union: bool,
    l: &Composite<'_>,
    targ: &Btf,
    targ_kind: &TypeKind<'_>,
    behind_ptr: bool,
    level: usize,
) -> Result<bool, BtfError> {
    let t = match *targ_kind {
        TypeKind::Struct(t) if !is_union => t,
        TypeKind::Union(t) if is_union => t,
        TypeKind::Fwd {
            is_union: fwd_union,
        } => return Ok(behind_ptr && fwd_union == is_union),
        _ => return Ok(false),
    };
    if behind_ptr {
        return Ok(true);
    }
    members_match(local, l, targ, &t, behind_ptr, level)
}

/// Same parameter count, each parameter's type matching.
fn params_match(
    local: &Btf,
    l: &FuncProto<'_>,
    targ: &Btf,
    t: &FuncProto<'_>,
    behind_ptr: bool,
    level: usize,
) -> Result<bool, BtfError> {
    if l.len() != t.len() {
        return Ok(false);
    }
    for i in 0..l.len() {
        let (lp, tp) = (l.param(i)?.type_id, t.param(i)?.type_id);
        if !types_match_level(local, lp, targ, tp, behind_ptr, level - 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}
