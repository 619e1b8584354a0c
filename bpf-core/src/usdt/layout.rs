//! The value of libbpf's `__bpf_usdt_specs` map (`struct __bpf_usdt_spec`), laid out as the
//! object's own BTF says: `usdt.bpf.h` changed it (libbpf 1.1 has `enum arg_type; short
//! reg_off; bool arg_signed; char arg_bitshift`, newer headers pack `arg_type:8`,
//! `idx_reg_off:12` and `scale_bitshift:4` bitfields for scaled-index arguments), so offsets and
//! bitfield widths are read per object rather than assumed.

use crate::btf::{Btf, BtfKind, TypeKind};

use super::args::{UsdtArg, UsdtArgLocation};

/// The struct and map names `usdt.bpf.h` declares.
pub const SPEC_STRUCT: &str = "__bpf_usdt_spec";
pub const ARG_SPEC_STRUCT: &str = "__bpf_usdt_arg_spec";
pub const SPECS_MAP: &str = "__bpf_usdt_specs";
pub const IP_TO_SPEC_ID_MAP: &str = "__bpf_usdt_ip_to_spec_id";

/// Why an object's spec layout cannot be used, or a spec not encoded into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecLayoutError {
    #[error("the object's BTF has no struct `{0}` (is the program built with <bpf/usdt.bpf.h>?)")]
    MissingType(&'static str),
    #[error("struct `{ty}` in the object's BTF has no member `{member}`")]
    MissingMember {
        ty: &'static str,
        member: &'static str,
    },
    #[error("struct `{ty}` member `{member}`: {reason}")]
    BadMember {
        ty: &'static str,
        member: &'static str,
        reason: String,
    },
    #[error("enum `__bpf_usdt_arg_type` in the object's BTF has no `{0}`")]
    MissingArgType(&'static str),
    #[error("{count} arguments, but the object's `{SPEC_STRUCT}` holds at most {max}")]
    TooManyArgs { count: usize, max: usize },
    #[error(
        "argument {index} is a scaled-index memory operand, which the object's <bpf/usdt.bpf.h> \
         cannot read (it needs libbpf 1.7's header, with BPF_USDT_ARG_SIB)"
    )]
    NoSib { index: usize },
    #[error("argument {index}: {what} {value:#x} does not fit the object's {bits}-bit field")]
    DoesNotFit {
        index: usize,
        what: &'static str,
        value: u64,
        bits: u32,
    },
}

/// Where one field is: bit offset from the start of its struct, and width in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub bit_offset: u32,
    pub bits: u32,
}

/// The layout of one `struct __bpf_usdt_arg_spec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpecLayout {
    pub val_off: Field,
    pub arg_type: Field,
    pub reg_off: Field,
    pub arg_signed: Field,
    pub arg_bitshift: Field,
    /// Present in headers that read scaled-index arguments.
    pub idx_reg_off: Option<Field>,
    pub scale_bitshift: Option<Field>,
}

/// The `__bpf_usdt_arg_type` values of the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgTypes {
    pub constant: u64,
    pub register: u64,
    pub deref: u64,
    pub sib: Option<u64>,
}

/// The layout of `struct __bpf_usdt_spec` in one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecLayout {
    /// `sizeof(struct __bpf_usdt_spec)`: the map's value size.
    pub size: u32,
    /// Byte offset of `args[0]`.
    pub args_offset: u32,
    /// `sizeof(struct __bpf_usdt_arg_spec)`.
    pub arg_size: u32,
    /// How many elements `args` has (`BPF_USDT_MAX_ARG_CNT`).
    pub max_args: usize,
    pub usdt_cookie: Field,
    pub arg_cnt: Field,
    pub arg: ArgSpecLayout,
    pub arg_types: ArgTypes,
}

struct Composite {
    ty: &'static str,
    id: u32,
}

impl Composite {
    fn find(btf: &Btf, ty: &'static str) -> Result<Composite, SpecLayoutError> {
        let id = btf
            .find_by_name_kind(ty, BtfKind::Struct)
            .ok_or(SpecLayoutError::MissingType(ty))?;
        Ok(Composite { ty, id })
    }

    /// The member's bit offset, type id and width (its bitfield size, else its type's size).
    fn member(
        &self,
        btf: &Btf,
        member: &'static str,
    ) -> Result<Option<(Field, u32)>, SpecLayoutError> {
        let bad = |reason: String| SpecLayoutError::BadMember {
            ty: self.ty,
            member,
            reason,
        };
        let TypeKind::Struct(composite) = btf
            .type_by_id(self.id)
            .map_err(|e| bad(e.to_string()))?
            .kind
        else {
            return Err(bad("not a struct".to_owned()));
        };
        for m in composite.members() {
            let m = m.map_err(|e| bad(e.to_string()))?;
            if m.name != member {
                continue;
            }
            let bits = match m.bitfield_size {
                0 => btf.type_size(m.type_id).map_err(|e| bad(e.to_string()))? * 8,
                bits => bits,
            };
            // Only `args` (an array) is wider than a scalar.
            if bits == 0 || (bits > 64 && member != "args") {
                return Err(bad(format!("{bits} bits wide")));
            }
            let end = m.bit_offset.checked_add(bits);
            if end.is_none_or(|end| end > composite.size.saturating_mul(8)) {
                return Err(bad(format!(
                    "bits {}..+{bits} run past the struct's {} bytes",
                    m.bit_offset, composite.size
                )));
            }
            let field = Field {
                bit_offset: m.bit_offset,
                bits,
            };
            return Ok(Some((field, m.type_id)));
        }
        Ok(None)
    }

    fn required(&self, btf: &Btf, member: &'static str) -> Result<(Field, u32), SpecLayoutError> {
        self.member(btf, member)?
            .ok_or(SpecLayoutError::MissingMember {
                ty: self.ty,
                member,
            })
    }

    fn size(&self, btf: &Btf) -> Result<u32, SpecLayoutError> {
        btf.type_size(self.id)
            .map_err(|e| SpecLayoutError::BadMember {
                ty: self.ty,
                member: "(size)",
                reason: e.to_string(),
            })
    }
}

impl SpecLayout {
    /// Reads the layout from an object's BTF.
    pub fn from_btf(btf: &Btf) -> Result<SpecLayout, SpecLayoutError> {
        let spec = Composite::find(btf, SPEC_STRUCT)?;
        let arg = Composite::find(btf, ARG_SPEC_STRUCT)?;
        let (args, args_type) = spec.required(btf, "args")?;
        let bad_args = |reason: String| SpecLayoutError::BadMember {
            ty: SPEC_STRUCT,
            member: "args",
            reason,
        };
        let array = btf
            .resolve_type(args_type)
            .map_err(|e| bad_args(e.to_string()))?;
        let TypeKind::Array(array) = array.kind else {
            return Err(bad_args("not an array".to_owned()));
        };
        let arg_size = arg.size(btf)?;
        let elem_size = btf
            .type_size(array.elem)
            .map_err(|e| bad_args(e.to_string()))?;
        if elem_size != arg_size || arg_size == 0 || args.bit_offset % 8 != 0 {
            return Err(bad_args(format!(
                "elements of {elem_size} bytes at bit {} are not `{ARG_SPEC_STRUCT}`s of {arg_size}",
                args.bit_offset
            )));
        }
        let (arg_type, arg_type_id) = arg.required(btf, "arg_type")?;
        let layout = SpecLayout {
            size: spec.size(btf)?,
            args_offset: args.bit_offset / 8,
            arg_size,
            max_args: array.nelems as usize,
            usdt_cookie: spec.required(btf, "usdt_cookie")?.0,
            arg_cnt: spec.required(btf, "arg_cnt")?.0,
            arg: ArgSpecLayout {
                val_off: arg.required(btf, "val_off")?.0,
                arg_type,
                reg_off: arg.required(btf, "reg_off")?.0,
                arg_signed: arg.required(btf, "arg_signed")?.0,
                arg_bitshift: arg.required(btf, "arg_bitshift")?.0,
                idx_reg_off: arg.member(btf, "idx_reg_off")?.map(|(f, _)| f),
                scale_bitshift: arg.member(btf, "scale_bitshift")?.map(|(f, _)| f),
            },
            arg_types: arg_types(btf, arg_type_id),
        };
        let args_end =
            u64::from(layout.args_offset) + u64::from(layout.arg_size) * layout.max_args as u64;
        if args_end > u64::from(layout.size) {
            return Err(bad_args(format!(
                "{} elements run past the struct's {} bytes",
                layout.max_args, layout.size
            )));
        }
        layout.check_arg_types()?;
        Ok(layout)
    }

    fn check_arg_types(&self) -> Result<(), SpecLayoutError> {
        if self.arg_types.constant == u64::MAX {
            return Err(SpecLayoutError::MissingArgType("BPF_USDT_ARG_CONST"));
        }
        if self.arg_types.register == u64::MAX {
            return Err(SpecLayoutError::MissingArgType("BPF_USDT_ARG_REG"));
        }
        if self.arg_types.deref == u64::MAX {
            return Err(SpecLayoutError::MissingArgType("BPF_USDT_ARG_REG_DEREF"));
        }
        Ok(())
    }

    /// Whether the object can read scaled-index (`8(%rax,%rdx,8)`) arguments.
    pub fn supports_sib(&self) -> bool {
        self.arg_types.sib.is_some()
            && self.arg.idx_reg_off.is_some()
            && self.arg.scale_bitshift.is_some()
    }

    /// One probe's map value: its arguments and the user's cookie.
    pub fn encode(&self, args: &[UsdtArg], cookie: u64) -> Result<Vec<u8>, SpecLayoutError> {
        if args.len() > self.max_args {
            return Err(SpecLayoutError::TooManyArgs {
                count: args.len(),
                max: self.max_args,
            });
        }
        let mut value = vec![0u8; self.size as usize];
        put(&mut value, 0, self.usdt_cookie, cookie);
        put(&mut value, 0, self.arg_cnt, args.len() as u64);
        for (index, arg) in args.iter().enumerate() {
            self.encode_arg(&mut value, index, arg)?;
        }
        Ok(value)
    }

    /// Argument `index` into its `args[index]` element of `value`.
    fn encode_arg(
        &self,
        value: &mut [u8],
        index: usize,
        arg: &UsdtArg,
    ) -> Result<(), SpecLayoutError> {
        let base = (self.args_offset as usize + index * self.arg_size as usize) * 8;
        let layout = &self.arg;
        let types = &self.arg_types;
        let (arg_type, val_off, reg_off) = match arg.location {
            UsdtArgLocation::Const(value) => (types.constant, value as u64, 0),
            UsdtArgLocation::Register { reg_off } => (types.register, 0, reg_off),
            UsdtArgLocation::Deref { reg_off, offset } => (types.deref, offset as u64, reg_off),
            UsdtArgLocation::Sib {
                base_off,
                index_off,
                scale_shift,
                offset,
            } => {
                let (Some(sib), Some(idx), Some(scale)) =
                    (types.sib, layout.idx_reg_off, layout.scale_bitshift)
                else {
                    return Err(SpecLayoutError::NoSib { index });
                };
                let index_off = fit(index, "index register offset", idx, u64::from(index_off))?;
                let shift = fit(index, "scale shift", scale, u64::from(scale_shift))?;
                put(value, base, idx, index_off);
                put(value, base, scale, shift);
                (sib, offset as u64, base_off)
            }
        };
        let val_off = signed_fit(index, layout.val_off, val_off)?;
        put(value, base, layout.val_off, val_off);
        let arg_type = fit(index, "argument type", layout.arg_type, arg_type)?;
        put(value, base, layout.arg_type, arg_type);
        let reg_off = fit(index, "register offset", layout.reg_off, u64::from(reg_off))?;
        put(value, base, layout.reg_off, reg_off);
        put(value, base, layout.arg_signed, u64::from(arg.signed));
        put(value, base, layout.arg_bitshift, u64::from(arg.bitshift()));
        Ok(())
    }
}

/// `v` unchanged if it fits `field` as an unsigned number, else which argument's `what` does
/// not fit.
fn fit(index: usize, what: &'static str, field: Field, v: u64) -> Result<u64, SpecLayoutError> {
    if field.bits < 64 && v >> field.bits != 0 {
        return Err(SpecLayoutError::DoesNotFit {
            index,
            what,
            value: v,
            bits: field.bits,
        });
    }
    Ok(v)
}

/// A value or offset (two's complement in `v`) cut to `field`'s width, if it fits there as a
/// signed number: 64-bit fields hold negative offsets and constants as their two's complement.
fn signed_fit(index: usize, field: Field, v: u64) -> Result<u64, SpecLayoutError> {
    let bits = field.bits;
    if bits >= 64 {
        return Ok(v);
    }
    let sign_extended = ((v << (64 - bits)) as i64 >> (64 - bits)) as u64;
    if sign_extended != v {
        return Err(SpecLayoutError::DoesNotFit {
            index,
            what: "value or offset",
            value: v,
            bits,
        });
    }
    Ok(v & ((1 << bits) - 1))
}

/// The `__bpf_usdt_arg_type` enumerators by name; `u64::MAX` marks a missing one.
fn arg_types(btf: &Btf, arg_type_id: u32) -> ArgTypes {
    let mut types = ArgTypes {
        constant: u64::MAX,
        register: u64::MAX,
        deref: u64::MAX,
        sib: None,
    };
    let Ok(ty) = btf.resolve_type(arg_type_id) else {
        return types;
    };
    let (TypeKind::Enum(e) | TypeKind::Enum64(e)) = ty.kind else {
        return types;
    };
    for value in e.values().flatten() {
        match value.name {
            "BPF_USDT_ARG_CONST" => types.constant = value.value,
            "BPF_USDT_ARG_REG" => types.register = value.value,
            "BPF_USDT_ARG_REG_DEREF" => types.deref = value.value,
            "BPF_USDT_ARG_SIB" => types.sib = Some(value.value),
            _ => {}
        }
    }
    types
}

/// Writes the low `field.bits` bits of `v` at `base + field.bit_offset` bits of `bytes`, in the
/// little-endian bit numbering BTF uses for x86-64 and BPF objects.
fn put(bytes: &mut [u8], base: usize, field: Field, v: u64) {
    for bit in 0..field.bits as usize {
        let at = base + field.bit_offset as usize + bit;
        let Some(byte) = bytes.get_mut(at / 8) else {
            return;
        };
        let mask = 1u8 << (at % 8);
        if (v >> bit) & 1 == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}
