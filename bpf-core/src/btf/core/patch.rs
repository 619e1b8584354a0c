//! Computing a relocation's old and new values and writing them into the instruction.

use bpf_sys::generated::bpf_insn;

use super::super::ext::CoreReloKind;
use super::super::types::TypeKind;
use super::POISON_HELPER_ID;
use super::spec::Spec;

/// Result of a relocation for one spec pair (libbpf's `bpf_core_relo_res`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub orig_val: u64,
    pub new_val: u64,
    pub poison: bool,
    /// Check the instruction currently holds `orig_val`.
    pub validate: bool,
    /// Load/store size would change in a way that reads the wrong value.
    pub fail_memsz_adjust: bool,
    pub orig_sz: u32,
    pub new_sz: u32,
}

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

fn field_value(kind: CoreReloKind, spec: &Spec<'_>) -> Result<FieldValue, String> {
    let btf = spec.btf;
    let e = |err: super::super::error::BtfError| err.to_string();
    let acc = spec.acc.last().ok_or("empty access")?;
    if acc.name.is_none() {
        let sz = btf.type_size(acc.type_id).map_err(e)?;
        let val = match kind {
            CoreReloKind::FieldByteOffset => spec.bit_offset / 8,
            CoreReloKind::FieldByteSize => u64::from(sz),
            _ => {
                return Err(format!(
                    "{} cannot apply to an array element access",
                    kind.name()
                ));
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
    let (TypeKind::Struct(c) | TypeKind::Union(c)) = btf.type_by_id(acc.type_id).map_err(e)?.kind
    else {
        return Err("accessor is not a member".into());
    };
    let m = c.member(acc.idx as usize).map_err(e)?;
    let field_id = btf.resolve(m.type_id).map_err(e)?;
    let mt = btf.type_by_id(field_id).map_err(e)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = u64::from(m.bitfield_size);
    let bitfield = bit_sz > 0;
    let (byte_sz, byte_off) = if bitfield {
        let mut byte_sz = u64::from(btf.type_size(field_id).map_err(e)?).max(1);
        let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
            if byte_sz >= 8 {
                return Err("bitfield cannot be read with a 64-bit load".into());
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_sz, byte_off)
    } else {
        let sz = u64::from(btf.type_size(field_id).map_err(e)?);
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
        other => return Err(format!("{} is not a field relocation", other.name())),
    };
    let size = (kind == CoreReloKind::FieldByteOffset && !bitfield)
        .then(|| (byte_sz as u32, size_class(btf, field_id)));
    Ok(FieldValue {
        val,
        size,
        validate,
    })
}

fn size_class(btf: &super::super::parse::Btf, id: u32) -> SizeClass {
    match btf.resolve_type(id).map(|t| t.kind) {
        Ok(TypeKind::Ptr { .. }) => SizeClass::Ptr,
        Ok(TypeKind::Int(i)) if !i.is_signed() => SizeClass::UnsignedInt,
        _ => SizeClass::Other,
    }
}

fn type_value(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<u64, String> {
    let Some(spec) = spec else { return Ok(0) };
    Ok(match kind {
        CoreReloKind::TypeIdTarget | CoreReloKind::TypeIdLocal => u64::from(spec.root_type_id),
        CoreReloKind::TypeExists | CoreReloKind::TypeMatches => 1,
        CoreReloKind::TypeSize => u64::from(
            spec.btf
                .type_size(spec.root_type_id)
                .map_err(|e| e.to_string())?,
        ),
        other => return Err(format!("{} is not a type relocation", other.name())),
    })
}

/// `Ok(None)`: the enumerator is missing and the instruction must be poisoned.
fn enum_value(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Option<u64>, String> {
    match kind {
        CoreReloKind::EnumValueExists => Ok(Some(u64::from(spec.is_some()))),
        _ => {
            let Some(spec) = spec else { return Ok(None) };
            let acc = spec.acc.first().ok_or("empty access")?;
            let t = spec
                .btf
                .type_by_id(acc.type_id)
                .map_err(|e| e.to_string())?;
            let (TypeKind::Enum(en) | TypeKind::Enum64(en)) = t.kind else {
                return Err("not an enum".into());
            };
            Ok(Some(
                en.value(acc.idx as usize).map_err(|e| e.to_string())?.value,
            ))
        }
    }
}

/// Old (local) and new (target) values of a relocation; `targ` None means no candidate matched.
pub(crate) fn calc_relo(
    kind: CoreReloKind,
    local: &Spec<'_>,
    targ: Option<&Spec<'_>>,
) -> Result<Outcome, String> {
    let mut out = Outcome {
        validate: true,
        ..Outcome::default()
    };
    if kind.is_field_based() {
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
    } else if kind.is_type_based() {
        out.orig_val = type_value(kind, Some(local))?;
        out.new_val = type_value(kind, targ)?;
        // Type ids change when objects are linked, so never check them.
        out.validate = kind != CoreReloKind::TypeIdTarget;
    } else {
        out.orig_val = enum_value(kind, Some(local))?.unwrap_or(0);
        match enum_value(kind, targ)? {
            Some(v) => out.new_val = v,
            None => out.poison = true,
        }
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
) -> Result<bool, String> {
    let is_ldimm64 = insns.get(idx).is_some_and(|i| i.code == LDIMM64);
    let mut poison_now = res.poison;
    if !poison_now {
        let insn = insns.get_mut(idx).ok_or("instruction out of range")?;
        match insn.code & 0x07 {
            BPF_ALU | BPF_ALU64 => {
                if insn.code & 0x08 != 0 {
                    return Err("ALU instruction with a register source".into());
                }
                if res.validate && insn.imm as u32 as u64 != res.orig_val {
                    return Err(format!(
                        "ALU imm is {}, expected {}",
                        insn.imm, res.orig_val
                    ));
                }
                if res.new_val > u64::from(u32::MAX) {
                    return Err(format!(
                        "value {} does not fit a 32-bit immediate",
                        res.new_val
                    ));
                }
                insn.imm = res.new_val as u32 as i32;
            }
            BPF_LDX | BPF_ST | BPF_STX => {
                if res.validate && insn.off as i64 != res.orig_val as i64 {
                    return Err(format!(
                        "memory offset is {}, expected {}",
                        insn.off, res.orig_val
                    ));
                }
                if res.new_val > i16::MAX as u64 {
                    return Err(format!(
                        "offset {} too large for a memory instruction",
                        res.new_val
                    ));
                }
                if res.fail_memsz_adjust {
                    log::debug!(
                        "CO-RE: field size changed {} -> {} for a signed or non-scalar field",
                        res.orig_sz,
                        res.new_sz
                    );
                    poison_now = true;
                } else {
                    insn.off = res.new_val as i16;
                    if res.new_sz != res.orig_sz {
                        if size_bytes(insn.code) != res.orig_sz {
                            return Err(format!(
                                "access is {} bytes, field is {}",
                                size_bytes(insn.code),
                                res.orig_sz
                            ));
                        }
                        let code = size_code(res.new_sz)
                            .ok_or(format!("no load of {} bytes", res.new_sz))?;
                        insn.code = (insn.code & !0x18) | code;
                    }
                }
            }
            BPF_LD => {
                if !is_ldimm64 {
                    return Err("BPF_LD other than a 64-bit immediate load".into());
                }
                let [first, second] = insns
                    .get_mut(idx..idx + 2)
                    .ok_or("truncated 64-bit immediate load")?
                else {
                    return Err("truncated 64-bit immediate load".into());
                };
                if first.src_reg() != 0
                    || first.off != 0
                    || second.code != 0
                    || second.dst_reg() != 0
                    || second.src_reg() != 0
                    || second.off != 0
                {
                    return Err("64-bit immediate load has unexpected form".into());
                }
                let imm = u64::from(first.imm as u32) | (u64::from(second.imm as u32) << 32);
                if res.validate && imm != res.orig_val {
                    return Err(format!(
                        "64-bit immediate is {imm}, expected {}",
                        res.orig_val
                    ));
                }
                first.imm = res.new_val as u32 as i32;
                second.imm = (res.new_val >> 32) as u32 as i32;
            }
            other => return Err(format!("instruction class {other:#x} cannot be relocated")),
        }
    }
    if poison_now {
        if let Some(second) = insns.get_mut(idx + 1).filter(|_| is_ldimm64) {
            poison(second);
        }
        let insn = insns.get_mut(idx).ok_or("instruction out of range")?;
        poison(insn);
    }
    Ok(poison_now)
}
