//! Access specifications: a relocation's access string resolved against local or target BTF.

use super::super::error::BtfError;
use super::super::ext::CoreReloKind;
use super::super::parse::{Btf, essential_name};
use super::super::types::{Array, TypeKind};
use super::compat::{fields_are_compat, types_are_compat, types_match};

/// Deepest access chain accepted (libbpf's limit).
pub(crate) const MAX_SPEC_LEN: usize = 64;

/// One step of an access: a member of `type_id` (named) or an array element (`name` is None).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accessor<'a> {
    pub type_id: u32,
    pub idx: u32,
    pub name: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub(crate) struct Spec<'a> {
    pub btf: &'a Btf,
    pub root_type_id: u32,
    pub kind: CoreReloKind,
    /// Raw indices as in the access string (including anonymous members).
    pub raw: Vec<u32>,
    /// Named members and array indices only: what must match in the target.
    pub acc: Vec<Accessor<'a>>,
    pub bit_offset: u64,
}

/// Why a local access string could not be interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpecError {
    Btf(BtfError),
    Invalid(String),
}

impl From<BtfError> for SpecError {
    fn from(e: BtfError) -> Self {
        SpecError::Btf(e)
    }
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError::Invalid(msg.into()))
}

/// Whether `arr` (reached through `prev`) is a flexible array: zero-length and last member.
fn is_flex_arr(btf: &Btf, prev: Option<&Accessor<'_>>, nelems: u32) -> Result<bool, BtfError> {
    let Some(prev) = prev else { return Ok(false) };
    if prev.name.is_none() || nelems > 0 {
        return Ok(false);
    }
    Ok(match btf.type_by_id(prev.type_id)?.kind {
        TypeKind::Struct(c) | TypeKind::Union(c) => prev.idx as usize + 1 == c.len(),
        _ => false,
    })
}

/// The indices of an access string such as `"0:1:2"`.
fn parse_access_string(access: &str) -> Result<Vec<u32>, SpecError> {
    let mut raw = Vec::new();
    for part in access.split(':') {
        let Ok(v) = part.parse::<u32>() else {
            return invalid(format!("bad access string {access:?}"));
        };
        raw.push(v);
        if raw.len() > MAX_SPEC_LEN {
            return invalid("access string too long");
        }
    }
    Ok(raw)
}

impl<'a> Spec<'a> {
    /// Parses `access` (e.g. `"0:1:2"`) starting at local type `type_id`.
    pub fn parse(
        btf: &'a Btf,
        type_id: u32,
        access: &str,
        kind: CoreReloKind,
    ) -> Result<Spec<'a>, SpecError> {
        let mut spec = Spec {
            btf,
            root_type_id: type_id,
            kind,
            raw: parse_access_string(access)?,
            acc: Vec::new(),
            bit_offset: 0,
        };
        if kind.is_type_based() {
            if spec.raw != [0] {
                return invalid(format!("type-based relocation with access {access:?}"));
            }
            return Ok(spec);
        }
        let id = btf.resolve(type_id)?;
        let first = spec.raw[0];
        spec.acc.push(Accessor {
            type_id: id,
            idx: first,
            name: None,
        });
        if kind.is_enumval_based() {
            spec.name_enumerator(id, access)?;
            return Ok(spec);
        }
        spec.bit_offset = u64::from(first) * u64::from(btf.type_size(id)?) * 8;
        spec.walk_access(id)?;
        Ok(spec)
    }

    /// An enum value relocation names enumerator `raw[0]` of enum `id`.
    fn name_enumerator(&mut self, id: u32, access: &str) -> Result<(), SpecError> {
        let t = self.btf.type_by_id(id)?;
        let (TypeKind::Enum(e) | TypeKind::Enum64(e)) = t.kind else {
            return invalid(format!("enum value relocation on {:?}", t.kind.kind()));
        };
        let first = self.raw[0];
        if self.raw.len() > 1 || first as usize >= e.len() {
            return invalid(format!("enumerator {access:?} out of range"));
        }
        self.acc[0].name = Some(e.value(first as usize)?.name);
        Ok(())
    }

    /// Follows `raw[1..]` from type `id` through members and array elements, adding up the bit
    /// offset and recording the named and indexed steps.
    fn walk_access(&mut self, mut id: u32) -> Result<(), SpecError> {
        let btf = self.btf;
        for i in 1..self.raw.len() {
            id = btf.resolve(id)?;
            let idx = self.raw[i];
            let t = btf.type_by_id(id)?;
            id = match t.kind {
                TypeKind::Struct(c) | TypeKind::Union(c) => {
                    if idx as usize >= c.len() {
                        return invalid(format!("member {idx} of {} out of range", t.name));
                    }
                    let m = c.member(idx as usize)?;
                    self.bit_offset += u64::from(m.bit_offset);
                    if !m.name.is_empty() {
                        self.acc.push(Accessor {
                            type_id: id,
                            idx,
                            name: Some(m.name),
                        });
                    }
                    m.type_id
                }
                TypeKind::Array(a) => self.step_into_array(&a, idx)?,
                other => return invalid(format!("access through {:?}", other.kind())),
            };
        }
        Ok(())
    }

    /// Element `idx` of array `a` (past the end only for a flexible array); returns its type.
    fn step_into_array(&mut self, a: &Array, idx: u32) -> Result<u32, SpecError> {
        let elem = self.btf.resolve(a.elem)?;
        let flex = is_flex_arr(self.btf, self.acc.last(), a.nelems)?;
        if !flex && idx >= a.nelems {
            return invalid(format!("array index {idx} out of bounds ({})", a.nelems));
        }
        self.acc.push(Accessor {
            type_id: elem,
            idx,
            name: None,
        });
        let size = self.btf.type_size(elem)?;
        self.bit_offset += u64::from(idx) * u64::from(size) * 8;
        Ok(elem)
    }

    /// Human-readable access path, e.g. `task_struct.pid` or `args[3]`.
    pub fn describe(&self) -> String {
        let root = self.btf.type_name(self.root_type_id).unwrap_or("");
        let mut out = if root.is_empty() {
            format!("[{}]", self.root_type_id)
        } else {
            root.to_string()
        };
        if self.kind.is_type_based() {
            return out;
        }
        if self.kind.is_enumval_based() {
            if let Some(Some(n)) = self.acc.first().map(|a| a.name) {
                out.push_str("::");
                out.push_str(n);
            }
            return out;
        }
        for (i, a) in self.acc.iter().enumerate() {
            match a.name {
                Some(n) => {
                    out.push('.');
                    out.push_str(n);
                }
                None if i == 0 && a.idx == 0 => {}
                None => out.push_str(&format!("[{}]", a.idx)),
            }
        }
        out
    }
}

/// Finds `local_acc`'s member by name in target composite `targ_id`, descending into anonymous
/// members; on success pushes the target accessors and returns the member's type id.
fn match_member<'t>(
    local: &Btf,
    local_acc: &Accessor<'_>,
    targ_btf: &'t Btf,
    targ_id: u32,
    spec: &mut Spec<'t>,
    depth: usize,
) -> Result<Option<u32>, BtfError> {
    if depth > MAX_SPEC_LEN {
        return Err(BtfError::ReferenceLoop { id: targ_id });
    }
    let targ_id = targ_btf.resolve(targ_id)?;
    let (TypeKind::Struct(tc) | TypeKind::Union(tc)) = targ_btf.type_by_id(targ_id)?.kind else {
        return Ok(None);
    };
    let (TypeKind::Struct(lc) | TypeKind::Union(lc)) = local.type_by_id(local_acc.type_id)?.kind
    else {
        return Ok(None);
    };
    let local_m = lc.member(local_acc.idx as usize)?;
    for i in 0..tc.len() {
        let m = tc.member(i)?;
        if spec.raw.len() >= MAX_SPEC_LEN {
            return Ok(None);
        }
        spec.bit_offset += u64::from(m.bit_offset);
        spec.raw.push(i as u32);
        if m.name.is_empty() {
            if let Some(found) =
                match_member(local, local_acc, targ_btf, m.type_id, spec, depth + 1)?
            {
                return Ok(Some(found));
            }
        } else if m.name == local_m.name {
            if fields_are_compat(local, local_m.type_id, targ_btf, m.type_id)? {
                spec.acc.push(Accessor {
                    type_id: targ_id,
                    idx: i as u32,
                    name: Some(m.name),
                });
                return Ok(Some(m.type_id));
            }
            return Ok(None);
        }
        spec.bit_offset -= u64::from(m.bit_offset);
        spec.raw.pop();
    }
    Ok(None)
}

/// Matches a local spec against candidate `targ_id`; `None` when the candidate doesn't fit.
pub(crate) fn match_spec<'t>(
    local: &Spec<'_>,
    targ_btf: &'t Btf,
    targ_id: u32,
) -> Result<Option<Spec<'t>>, BtfError> {
    let mut spec = Spec {
        btf: targ_btf,
        root_type_id: targ_id,
        kind: local.kind,
        raw: Vec::new(),
        acc: Vec::new(),
        bit_offset: 0,
    };
    if local.kind.is_type_based() {
        let ok = if local.kind == CoreReloKind::TypeMatches {
            types_match(local.btf, local.root_type_id, targ_btf, targ_id)?
        } else {
            types_are_compat(local.btf, local.root_type_id, targ_btf, targ_id)?
        };
        return Ok(ok.then_some(spec));
    }
    let Some(first) = local.acc.first() else {
        return Ok(None);
    };
    if local.kind.is_enumval_based() {
        let targ_id = targ_btf.resolve(targ_id)?;
        let (TypeKind::Enum(e) | TypeKind::Enum64(e)) = targ_btf.type_by_id(targ_id)?.kind else {
            return Ok(None);
        };
        let want = essential_name(first.name.unwrap_or("").as_bytes());
        for i in 0..e.len() {
            let v = e.value(i)?;
            if essential_name(v.name.as_bytes()) == want {
                spec.acc.push(Accessor {
                    type_id: targ_id,
                    idx: i as u32,
                    name: Some(v.name),
                });
                spec.raw.push(i as u32);
                return Ok(Some(spec));
            }
        }
        return Ok(None);
    }
    let mut targ_id = targ_id;
    for (i, local_acc) in local.acc.iter().enumerate() {
        targ_id = targ_btf.resolve(targ_id)?;
        if local_acc.name.is_some() {
            match match_member(local.btf, local_acc, targ_btf, targ_id, &mut spec, 0)? {
                Some(next) => targ_id = next,
                None => return Ok(None),
            }
        } else {
            if i > 0 {
                let TypeKind::Array(a) = targ_btf.type_by_id(targ_id)?.kind else {
                    return Ok(None);
                };
                let flex = is_flex_arr(targ_btf, spec.acc.last(), a.nelems)?;
                if !flex && local_acc.idx >= a.nelems {
                    return Ok(None);
                }
                targ_id = targ_btf.resolve(a.elem)?;
            }
            if spec.raw.len() >= MAX_SPEC_LEN {
                return Ok(None);
            }
            spec.acc.push(Accessor {
                type_id: targ_id,
                idx: local_acc.idx,
                name: None,
            });
            spec.raw.push(local_acc.idx);
            let size = targ_btf.type_size(targ_id)?;
            spec.bit_offset += u64::from(local_acc.idx) * u64::from(size) * 8;
        }
    }
    Ok(Some(spec))
}
