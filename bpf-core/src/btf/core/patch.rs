//! Computing a relocation's old and new values and writing them into the instruction.

use bpf_sys::generated::bpf_insn;

use super::super::ext::CoreReloKind;
use super::super::parse::Btf;
use super::super::types::TypeKind;
use super::outcome::{Outcome, POISON_HELPER_ID, PatchError};
use super::spec::Spec;

/// Value of a field relocation for one spec; `Ok(None)` means the field is missing (poison).
struct FieldValue {
    val: u64,
    /// Memory size for LDX/ST/STX adjustment, with whether that type may be resized safely.
    size: Option<(u32, SizeClass)>,
    validate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizeClass {
    Ptr,
    UnsignedInt,
    Other,
}

fn field_value(kind: CoreReloKind, spec: &Spec<'_>) -> Result<FieldValue, PatchError> {
    let btf = spec.btf;
    let acc = spec.acc.last().ok_or(PatchError::EmptyAccess)?;
    if acc.name.is_none() {
        let sz = btf.type_size(acc.type_id)?;
        let val = match kind {
            CoreReloKind::FieldByteOffset => spec.bit_offset / 8,
            CoreReloKind::FieldByteSize => u64::from(sz),
            _ => {
                return Err(PatchError::ArrayElementAccess { kind: kind.name() });
            }
        };
        let size =
            (kind == CoreReloKind::FieldByteOffset).then(|| (sz, size_class(btf, acc.type_id)));
        return Ok(FieldValue {
            val,
            size,
            validate: true,
        });
    }
    let (TypeKind::Struct(c) | TypeKind::Union(c)) = btf.type_by_id(acc.type_id)?.kind else {
        return Err(PatchError::NotAMember);
    };
    let m = c.member(acc.idx as usize)?;
    let field_id = btf.resolve(m.type_id)?;
    let mt = btf.type_by_id(field_id)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = u64::from(m.bitfield_size);
    let bitfield = bit_sz > 0;
    let (byte_sz, byte_off) = if bitfield {
        let mut byte_sz = u64::from(btf.type_size(field_id)?).max(1);
        let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
            if byte_sz >= 8 {
                return Err(PatchError::BitfieldTooWide);
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_sz, byte_off)
    } else {
        let sz = u64::from(btf.type_size(field_id)?);
        bit_sz = sz * 8;
        (sz, bit_off / 8)
    };
    let mut validate = !bitfield;
    let val = match kind {
        CoreReloKind::FieldByteOffset => byte_off,
        CoreReloKind::FieldByteSize => byte_sz,
        CoreReloKind::FieldSigned => {
            validate = true;
            u64::from(match mt.kind {
                TypeKind::Enum(en) | TypeKind::Enum64(en) => en.signed,
                TypeKind::Int(i) => i.is_signed(),
                _ => false,
            })
        }
        CoreReloKind::FieldLShiftU64 => 64u64.wrapping_sub(bit_off + bit_sz - byte_off * 8),
        CoreReloKind::FieldRShiftU64 => {
            validate = true;
            64 - bit_sz
        }
        other => {
            return Err(PatchError::WrongGroup {
                kind: other.name(),
                group: "field",
            });
        }
    };
    let size = (kind == CoreReloKind::FieldByteOffset && !bitfield)
        .then(|| (byte_sz as u32, size_class(btf, field_id)));
    Ok(FieldValue {
        val,
        size,
        validate,
    })
}

fn size_class(btf: &Btf, id: u32) -> SizeClass {
    match btf.resolve_type(id).map(|t| t.kind) {
        Ok(TypeKind::Ptr { .. }) => SizeClass::Ptr,
        Ok(TypeKind::Int(i)) if !i.is_signed() => SizeClass::UnsignedInt,
        _ => SizeClass::Other,
    }
}

fn type_value(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<u64, PatchError> {
    let Some(spec) = spec else { return Ok(0) };
    Ok(match kind {
        CoreReloKind::TypeIdTarget | CoreReloKind::TypeIdLocal => u64::from(spec.root_type_id),
        CoreReloKind::TypeExists | CoreReloKind::TypeMatches => 1,
        CoreReloKind::TypeSize => u64::from(spec.btf.type_size(spec.root_type_id)?),
        other => {
            return Err(PatchError::WrongGroup {
                kind: other.name(),
                group: "type",
            });
        }
    })
}

/// `Ok(None)`: the enumerator is missing and the instruction must be poisoned.
fn enum_value(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Option<u64>, PatchError> {
    match kind {
        CoreReloKind::EnumValueExists => Ok(Some(u64::from(spec.is_some()))),
        _ => {
            let Some(spec) = spec else { return Ok(None) };
            let acc = spec.acc.first().ok_or(PatchError::EmptyAccess)?;
            let t = spec.btf.type_by_id(acc.type_id)?;
            let (TypeKind::Enum(en) | TypeKind::Enum64(en)) = t.kind else {
                return Err(PatchError::NotAnEnum);
            };
            Ok(Some(en.value(acc.idx as usize)?.value))
        }
    }
}

/// Old (local) and new (target) values of a relocation; `targ` None means no candidate matched.
pub(crate) fn calc_relo(
    kind: CoreReloKind,
    local: &Spec<'_>,
    targ: Option<&Spec<'_>>,
) -> Result<Outcome, PatchError> {
    if kind.is_field_based() {
        field_outcome(kind, local, targ)
    } else if kind.is_type_based() {
        Ok(Outcome {
            orig_val: type_value(kind, Some(local))?,
            new_val: type_value(kind, targ)?,
            // Type ids change when objects are linked, so never check them.
            validate: kind != CoreReloKind::TypeIdTarget,
            ..Outcome::default()
        })
    } else {
        let new_val = enum_value(kind, targ)?;
        Ok(Outcome {
            orig_val: enum_value(kind, Some(local))?.unwrap_or(0),
            new_val: new_val.unwrap_or(0),
            poison: new_val.is_none(),
            validate: true,
            ..Outcome::default()
        })
    }
}

/// `calc_relo` for field-based kinds: offsets, sizes, signedness, shifts and existence.
fn field_outcome(
    kind: CoreReloKind,
    local: &Spec<'_>,
    targ: Option<&Spec<'_>>,
) -> Result<Outcome, PatchError> {
    let mut out = Outcome {
        validate: true,
        ..Outcome::default()
    };
    if kind == CoreReloKind::FieldExists {
        out.orig_val = 1;
        out.new_val = u64::from(targ.is_some());
        return Ok(out);
    }
    let l = field_value(kind, local)?;
    out.orig_val = l.val;
    out.validate = l.validate;
    let Some(targ) = targ else {
        out.poison = true;
        return Ok(out);
    };
    let t = field_value(kind, targ)?;
    out.new_val = t.val;
    if let (Some((lsz, lclass)), Some((tsz, tclass))) = (l.size, t.size) {
        out.orig_sz = lsz;
        out.new_sz = tsz;
        // Only zero-extending loads (pointers, unsigned ints) survive a size change.
        let safe = (lclass == SizeClass::Ptr && tclass == SizeClass::Ptr)
            || (lclass == SizeClass::UnsignedInt && tclass == SizeClass::UnsignedInt);
        out.fail_memsz_adjust = lsz != tsz && !safe;
    }
    Ok(out)
}

const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_ALU: u8 = 0x04;
const BPF_ALU64: u8 = 0x07;
const LDIMM64: u8 = 0x18;

fn poison(insn: &mut bpf_insn) {
    insn.code = 0x85; // BPF_JMP | BPF_CALL
    insn.set_dst_reg(0);
    insn.set_src_reg(0);
    insn.off = 0;
    insn.imm = POISON_HELPER_ID;
}

fn size_bytes(code: u8) -> u32 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

fn size_code(bytes: u32) -> Option<u8> {
    Some(match bytes {
        4 => 0x00,
        2 => 0x08,
        1 => 0x10,
        8 => 0x18,
        _ => return None,
    })
}

/// Writes the outcome into `insns[idx]`; returns true when the instruction was poisoned.
pub(crate) fn patch_insn(
    insns: &mut [bpf_insn],
    idx: usize,
    res: &Outcome,
) -> Result<bool, PatchError> {
    let poison_now = res.poison || write_new_value(insns, idx, res)?;
    if poison_now {
        poison_at(insns, idx)?;
    }
    Ok(poison_now)
}

/// Writes `res.new_val` where the instruction's class keeps it; returns true when the
/// instruction must be poisoned instead.
fn write_new_value(insns: &mut [bpf_insn], idx: usize, res: &Outcome) -> Result<bool, PatchError> {
    let insn = insns.get_mut(idx).ok_or(PatchError::InsnOutOfRange)?;
    match insn.code & 0x07 {
        BPF_ALU | BPF_ALU64 => patch_alu_imm(insn, res).map(|()| false),
        BPF_LDX | BPF_ST | BPF_STX => patch_mem_offset(insn, res),
        BPF_LD => patch_ldimm64(insns, idx, res).map(|()| false),
        class => Err(PatchError::UnrelocatableClass { class }),
    }
}

/// An ALU instruction's immediate operand.
fn patch_alu_imm(insn: &mut bpf_insn, res: &Outcome) -> Result<(), PatchError> {
    if insn.code & 0x08 != 0 {
        return Err(PatchError::AluRegisterSource);
    }
    // Immediates are sign-extended by the CPU; negative enum values arrive sign-extended too.
    let imm_matches =
        insn.imm as u32 as u64 == res.orig_val || insn.imm as i64 as u64 == res.orig_val;
    if res.validate && !imm_matches {
        return Err(PatchError::UnexpectedImm {
            found: insn.imm,
            expected: res.orig_val,
        });
    }
    if res.new_val > u64::from(u32::MAX) && (res.new_val as i64) < i64::from(i32::MIN) {
        return Err(PatchError::ImmOverflow { value: res.new_val });
    }
    insn.imm = res.new_val as u32 as i32;
    Ok(())
}

/// A load's or store's memory offset, and its access size when the field's size changed;
/// returns true when the size change would read the wrong value (the caller poisons).
fn patch_mem_offset(insn: &mut bpf_insn, res: &Outcome) -> Result<bool, PatchError> {
    if res.validate && insn.off as i64 != res.orig_val as i64 {
        return Err(PatchError::UnexpectedOffset {
            found: insn.off,
            expected: res.orig_val,
        });
    }
    if res.new_val > i16::MAX as u64 {
        return Err(PatchError::OffsetTooLarge {
            offset: res.new_val,
        });
    }
    if res.fail_memsz_adjust {
        log::debug!(
            "CO-RE: field size changed {} -> {} for a signed or non-scalar field",
            res.orig_sz,
            res.new_sz
        );
        return Ok(true);
    }
    insn.off = res.new_val as i16;
    if res.new_sz != res.orig_sz {
        let access = size_bytes(insn.code);
        if access != res.orig_sz {
            return Err(PatchError::AccessSizeMismatch {
                access,
                field: res.orig_sz,
            });
        }
        let code = size_code(res.new_sz).ok_or(PatchError::NoLoadOfSize { bytes: res.new_sz })?;
        insn.code = (insn.code & !0x18) | code;
    }
    Ok(false)
}

/// The 64-bit immediate spread over the two instructions of an `ld_imm64` at `idx`.
fn patch_ldimm64(insns: &mut [bpf_insn], idx: usize, res: &Outcome) -> Result<(), PatchError> {
    if insns.get(idx).is_none_or(|i| i.code != LDIMM64) {
        return Err(PatchError::NotLdImm64);
    }
    let Some([first, second]) = insns.get_mut(idx..idx + 2) else {
        return Err(PatchError::TruncatedLdImm64);
    };
    if first.src_reg() != 0
        || first.off != 0
        || second.code != 0
        || second.dst_reg() != 0
        || second.src_reg() != 0
        || second.off != 0
    {
        return Err(PatchError::MalformedLdImm64);
    }
    let imm = u64::from(first.imm as u32) | (u64::from(second.imm as u32) << 32);
    if res.validate && imm != res.orig_val {
        return Err(PatchError::UnexpectedImm64 {
            found: imm,
            expected: res.orig_val,
        });
    }
    first.imm = res.new_val as u32 as i32;
    second.imm = (res.new_val >> 32) as u32 as i32;
    Ok(())
}

/// Turns the instruction at `idx` (both halves of an `ld_imm64`) into a call of the poison helper.
fn poison_at(insns: &mut [bpf_insn], idx: usize) -> Result<(), PatchError> {
    let is_ldimm64 = insns.get(idx).is_some_and(|i| i.code == LDIMM64);
    if let Some(second) = insns.get_mut(idx + 1).filter(|_| is_ldimm64) {
        poison(second);
    }
    poison(insns.get_mut(idx).ok_or(PatchError::InsnOutOfRange)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u8, off: i16) -> bpf_insn {
        bpf_insn {
            code,
            off,
            ..bpf_insn::default()
        }
    }

    const LDX_W: u8 = 0x61;

    #[test]
    fn instructions_that_do_not_hold_the_local_value_are_typed_errors() {
        let res = Outcome {
            orig_val: 8,
            new_val: 16,
            validate: true,
            ..Outcome::default()
        };
        let mut insns = [insn(LDX_W, 4)];
        let err = patch_insn(&mut insns, 0, &res).unwrap_err();
        assert_eq!(
            err,
            PatchError::UnexpectedOffset {
                found: 4,
                expected: 8
            }
        );
        assert_eq!(err.to_string(), "memory offset is 4, expected 8");
        let mut jump = [insn(0x05, 8)];
        assert_eq!(
            patch_insn(&mut jump, 0, &res),
            Err(PatchError::UnrelocatableClass { class: 0x05 })
        );
        assert_eq!(
            patch_insn(&mut insns, 3, &res),
            Err(PatchError::InsnOutOfRange)
        );
    }

    #[test]
    fn offsets_are_rewritten_and_unsatisfied_relocations_poison() {
        let res = Outcome {
            orig_val: 8,
            new_val: 16,
            validate: true,
            ..Outcome::default()
        };
        let mut insns = [insn(LDX_W, 8)];
        assert_eq!(patch_insn(&mut insns, 0, &res), Ok(false));
        assert_eq!(insns[0].off, 16);
        let poisoned = Outcome {
            poison: true,
            ..res
        };
        assert_eq!(patch_insn(&mut insns, 0, &poisoned), Ok(true));
        assert_eq!((insns[0].code, insns[0].imm), (0x85, POISON_HELPER_ID));
    }
}
