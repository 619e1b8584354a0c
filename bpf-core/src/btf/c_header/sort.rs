//! The stable order bpftool writes a whole BTF in: anonymous enums (constants) first, then named
//! enums, base types, structs and unions, function prototypes, each group by name; so a header
//! changes only where the types changed, not where ids moved.

use crate::btf::{Btf, BtfError, TypeKind};

const MAX_RANK: u32 = 10;
/// Modifier chains longer than this are malformed; they sort last.
const MAX_CHAIN: usize = 64;

fn rank(btf: &Btf, id: u32, mut has_name: bool, depth: usize) -> Result<u32, BtfError> {
    let t = btf.type_by_id(id)?;
    has_name |= !t.name.is_empty();
    if depth > MAX_CHAIN {
        return Ok(MAX_RANK);
    }
    Ok(match t.kind {
        TypeKind::Enum(_) | TypeKind::Enum64(_) => u32::from(has_name),
        TypeKind::Int(_) | TypeKind::Float { .. } => 2,
        TypeKind::Struct(_) | TypeKind::Union(_) if has_name => 3,
        TypeKind::FuncProto(_) if has_name => 4,
        TypeKind::Array(a) if has_name => rank(btf, a.elem, true, depth + 1)?,
        TypeKind::TypeTag { target }
        | TypeKind::Const { target }
        | TypeKind::Ptr { target }
        | TypeKind::Volatile { target }
        | TypeKind::Restrict { target }
        | TypeKind::Typedef { target }
        | TypeKind::DeclTag { target, .. }
            if has_name =>
        {
            rank(btf, target, true, depth + 1)?
        }
        _ => MAX_RANK,
    })
}

/// The name a type sorts under: its own, the referred type's for modifiers and arrays, and an
/// anonymous enum's first enumerator.
fn sort_name(btf: &Btf, id: u32, from_ref: bool, depth: usize) -> Result<&str, BtfError> {
    let t = btf.type_by_id(id)?;
    if depth > MAX_CHAIN {
        return Ok(t.name);
    }
    Ok(match t.kind {
        TypeKind::Enum(e) | TypeKind::Enum64(e) => {
            if !from_ref && t.name.is_empty() && !e.is_empty() {
                e.value(0)?.name
            } else {
                t.name
            }
        }
        TypeKind::Array(a) => sort_name(btf, a.elem, true, depth + 1)?,
        TypeKind::TypeTag { target }
        | TypeKind::Const { target }
        | TypeKind::Ptr { target }
        | TypeKind::Volatile { target }
        | TypeKind::Restrict { target }
        | TypeKind::Typedef { target }
        | TypeKind::DeclTag { target, .. } => sort_name(btf, target, true, depth + 1)?,
        _ => t.name,
    })
}

fn mix(hash: u64, value: u64) -> u64 {
    hash.wrapping_mul(31).wrapping_add(value)
}

/// The classic `h * 31 + c` string hash, over C's signed chars.
fn str_hash(s: &str) -> u64 {
    s.bytes().fold(0u64, |h, b| mix(h, b as i8 as i64 as u64))
}

fn mix_name(hash: u64, name: &str) -> u64 {
    if name.is_empty() {
        hash
    } else {
        mix(hash, str_hash(name))
    }
}

/// Tells apart same-named types (two `struct x` of different members), deterministically.
fn disambiguation_hash(
    btf: &Btf,
    id: u32,
    include_members: bool,
    depth: usize,
) -> Result<u64, BtfError> {
    let t = btf.type_by_id(id)?;
    let mut hash = mix_name(0, t.name);
    if depth > MAX_CHAIN {
        return Ok(hash);
    }
    match t.kind {
        TypeKind::Enum(e) | TypeKind::Enum64(e) => {
            for v in e.values() {
                hash = mix_name(hash, v?.name);
            }
        }
        TypeKind::Struct(c) | TypeKind::Union(c) if include_members => {
            for m in c.members() {
                let m = m?;
                hash = mix_name(hash, m.name);
                hash = mix(hash, disambiguation_hash(btf, m.type_id, false, depth + 1)?);
            }
        }
        TypeKind::TypeTag { target }
        | TypeKind::Const { target }
        | TypeKind::Ptr { target }
        | TypeKind::Volatile { target }
        | TypeKind::Restrict { target }
        | TypeKind::Typedef { target }
        | TypeKind::DeclTag { target, .. } => {
            hash = mix(
                hash,
                disambiguation_hash(btf, target, include_members, depth + 1)?,
            );
        }
        TypeKind::Array(a) => {
            hash = mix(hash, u64::from(a.nelems));
            hash = mix(
                hash,
                disambiguation_hash(btf, a.elem, include_members, depth + 1)?,
            );
        }
        _ => {}
    }
    Ok(hash)
}

struct SortKey<'a> {
    rank: u32,
    sort_name: &'a str,
    own_name: &'a str,
    hash: u64,
    id: u32,
}

/// Every type id (`void` included) in bpftool's sorted order.
pub(super) fn sorted_ids(btf: &Btf) -> Result<Vec<u32>, BtfError> {
    let mut keys = Vec::with_capacity(btf.end_id() as usize);
    for id in 0..btf.end_id() {
        keys.push(SortKey {
            rank: rank(btf, id, false, 0)?,
            sort_name: sort_name(btf, id, false, 0)?,
            own_name: btf.type_by_id(id)?.name,
            hash: disambiguation_hash(btf, id, true, 0)?,
            id,
        });
    }
    keys.sort_unstable_by(|a, b| {
        a.rank
            .cmp(&b.rank)
            .then_with(|| a.sort_name.cmp(b.sort_name))
            .then_with(|| a.own_name.cmp(b.own_name))
            .then_with(|| a.hash.cmp(&b.hash))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(keys.into_iter().map(|k| k.id).collect())
}
