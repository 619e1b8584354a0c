//! Bytes of a map key or value read through their BTF type: structs with field names, enums by
//! name, arrays, bitfields, `char` arrays as text. [`format_value`] builds a [`Value`] tree
//! (which renders as one line with `Display`); [`type_name`] spells a type the way C does.

use std::fmt;

use super::{Array, Btf, BtfError, Composite, Datasec, Enum, TypeKind};

/// Deepest nesting followed; deeper types print as bytes.
const MAX_DEPTH: usize = 32;

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Signed(i128),
    Unsigned(u128),
    Bool(bool),
    Char(u8),
    Float(f64),
    /// An enumerator's name, or the number when no enumerator has that value.
    Enum {
        name: Option<String>,
        value: i128,
    },
    Pointer(u64),
    /// A `char` array holding text (up to its first NUL).
    Text(String),
    /// Struct or union members in order (anonymous members are named `""`).
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
    /// Bytes of a type that has no readable form (void, functions, too deep).
    Bytes(Vec<u8>),
}

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("BTF type {id}")]
    Btf {
        id: u32,
        #[source]
        source: BtfError,
    },
    #[error("type {id} needs {needed} bytes at offset {offset}, the data has {len}")]
    Short {
        id: u32,
        offset: usize,
        needed: usize,
        len: usize,
    },
}

/// Reads `bytes` as a value of BTF type `type_id`.
pub fn format_value(btf: &Btf, type_id: u32, bytes: &[u8]) -> Result<Value, ValueError> {
    Reader { btf, bytes }.read(type_id, 0, 0)
}

fn btf_err(id: u32) -> impl Fn(BtfError) -> ValueError {
    move |source| ValueError::Btf { id, source }
}

fn slice(bytes: &[u8], id: u32, offset: usize, needed: usize) -> Result<&[u8], ValueError> {
    offset
        .checked_add(needed)
        .and_then(|end| bytes.get(offset..end))
        .ok_or(ValueError::Short {
            id,
            offset,
            needed,
            len: bytes.len(),
        })
}

fn le_uint(bytes: &[u8]) -> u128 {
    let mut v = 0u128;
    for (i, &b) in bytes.iter().take(16).enumerate() {
        v |= u128::from(b) << (8 * i);
    }
    v
}

fn sign_extend(v: u128, bits: u32) -> i128 {
    if bits == 0 || bits >= 128 {
        return v as i128;
    }
    let shift = 128 - bits;
    ((v << shift) as i128) >> shift
}

/// Values of types of one BTF read from one byte buffer.
#[derive(Clone, Copy)]
struct Reader<'a> {
    btf: &'a Btf,
    bytes: &'a [u8],
}

impl Reader<'_> {
    /// The value of type `id` at `offset`, nested `depth` levels deep.
    fn read(self, id: u32, offset: usize, depth: usize) -> Result<Value, ValueError> {
        let ty = self.btf.resolve_type(id).map_err(btf_err(id))?;
        if depth > MAX_DEPTH {
            let size = self.btf.type_size(id).unwrap_or(0) as usize;
            let available = self.bytes.len().saturating_sub(offset);
            return self.opaque(id, offset, size.min(available));
        }
        let slice = |needed: usize| slice(self.bytes, ty.id, offset, needed);
        match ty.kind {
            TypeKind::Int(int) => {
                let bits = u32::from(int.bits);
                let mut v = le_uint(slice(int.size as usize)?) >> int.offset;
                if bits < 128 {
                    v &= (1u128 << bits) - 1;
                }
                Ok(int_value(int.encoding, int.is_signed(), bits, v))
            }
            TypeKind::Ptr { .. } => Ok(Value::Pointer(le_uint(slice(8)?) as u64)),
            TypeKind::Float { size } => {
                let raw = slice(size as usize)?;
                Ok(match size {
                    4 => Value::Float(f64::from(f32::from_bits(le_uint(raw) as u32))),
                    8 => Value::Float(f64::from_bits(le_uint(raw) as u64)),
                    _ => Value::Bytes(raw.to_vec()),
                })
            }
            TypeKind::Enum(e) | TypeKind::Enum64(e) => Ok(enum_value(&e, slice(e.size as usize)?)),
            TypeKind::Array(array) => self.array(ty.id, &array, offset, depth),
            TypeKind::Struct(c) | TypeKind::Union(c) => self.composite(ty.id, &c, offset, depth),
            TypeKind::Var { target, .. } => self.read(target, offset, depth + 1),
            TypeKind::Datasec(sec) => self.datasec(&sec, offset, depth),
            _ => {
                let size = self.btf.type_size(ty.id).unwrap_or(0) as usize;
                self.opaque(ty.id, offset, size)
            }
        }
    }

    /// The `size` bytes at `offset` as they are, for types with no readable form.
    fn opaque(self, id: u32, offset: usize, size: usize) -> Result<Value, ValueError> {
        Ok(Value::Bytes(slice(self.bytes, id, offset, size)?.to_vec()))
    }

    /// An array: text when it is a printable `char` array, else its elements.
    fn array(
        self,
        id: u32,
        array: &Array,
        offset: usize,
        depth: usize,
    ) -> Result<Value, ValueError> {
        let btf = self.btf;
        let elem_size = btf.type_size(array.elem).map_err(btf_err(array.elem))? as usize;
        let elem = btf.resolve_type(array.elem).map_err(btf_err(array.elem))?;
        let total = elem_size
            .checked_mul(array.nelems as usize)
            .ok_or(ValueError::Short {
                id,
                offset,
                needed: usize::MAX,
                len: self.bytes.len(),
            })?;
        let raw = slice(self.bytes, id, offset, total)?;
        if let TypeKind::Int(int) = elem.kind
            && int.size == 1
            && (int.encoding & super::int_encoding::CHAR != 0 || elem.name == "char")
            && let Some(text) = as_text(raw)
        {
            return Ok(Value::Text(text));
        }
        // Zero-sized elements take no bytes, so the data cannot bound their count.
        if elem_size == 0 && array.nelems > 4096 {
            return Ok(Value::Bytes(Vec::new()));
        }
        let mut items = Vec::with_capacity(array.nelems.min(4096) as usize);
        for i in 0..array.nelems as usize {
            items.push(self.read(array.elem, offset + i * elem_size, depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    /// A struct or union: each member by name, bitfields included.
    fn composite(
        self,
        id: u32,
        c: &Composite<'_>,
        offset: usize,
        depth: usize,
    ) -> Result<Value, ValueError> {
        slice(self.bytes, id, offset, c.size as usize)?;
        let mut members = Vec::with_capacity(c.len());
        for member in c.members() {
            let member = member.map_err(btf_err(id))?;
            let value = if member.bitfield_size > 0 {
                read_bitfield(self.btf, &member, self.bytes, offset)?
            } else {
                let at = offset + (member.bit_offset / 8) as usize;
                self.read(member.type_id, at, depth + 1)?
            };
            members.push((member.name.to_owned(), value));
        }
        Ok(Value::Struct(members))
    }

    /// A data section: each variable by name.
    fn datasec(self, sec: &Datasec<'_>, offset: usize, depth: usize) -> Result<Value, ValueError> {
        let mut members = Vec::new();
        for var in sec.vars() {
            let name = self.btf.type_name(var.type_id).unwrap_or("").to_owned();
            let value = self.read(var.type_id, offset + var.offset as usize, depth + 1)?;
            members.push((name, value));
        }
        Ok(Value::Struct(members))
    }
}

/// An enum's value in `raw`, by enumerator name when one has it.
fn enum_value(e: &Enum<'_>, raw: &[u8]) -> Value {
    let bits = e.size * 8;
    let unsigned = le_uint(raw);
    let value = if e.signed {
        sign_extend(unsigned, bits)
    } else {
        unsigned as i128
    };
    let name = e.values().flatten().find_map(|v| {
        let candidate = if e.signed {
            sign_extend(u128::from(v.value), bits)
        } else {
            i128::from(v.value) & ((1i128 << bits.min(64)) - 1)
        };
        (candidate == value).then(|| v.name.to_owned())
    });
    Value::Enum { name, value }
}

fn int_value(encoding: u8, signed: bool, bits: u32, v: u128) -> Value {
    use super::int_encoding::{BOOL, CHAR};
    if encoding & BOOL != 0 {
        Value::Bool(v != 0)
    } else if encoding & CHAR != 0 {
        Value::Char(v as u8)
    } else if signed {
        Value::Signed(sign_extend(v, bits))
    } else {
        Value::Unsigned(v)
    }
}

fn read_bitfield(
    btf: &Btf,
    member: &super::Member<'_>,
    bytes: &[u8],
    offset: usize,
) -> Result<Value, ValueError> {
    let first = offset + (member.bit_offset / 8) as usize;
    let shift = member.bit_offset % 8;
    let span = (shift + member.bitfield_size).div_ceil(8) as usize;
    let raw = slice(bytes, member.type_id, first, span)?;
    let bits = member.bitfield_size;
    let v = (le_uint(raw) >> shift) & ((1u128 << bits.min(127)) - 1);
    let ty = btf
        .resolve_type(member.type_id)
        .map_err(btf_err(member.type_id))?;
    Ok(match ty.kind {
        TypeKind::Int(int) => int_value(int.encoding, int.is_signed(), bits, v),
        TypeKind::Enum(e) | TypeKind::Enum64(e) => {
            let value = if e.signed {
                sign_extend(v, bits)
            } else {
                v as i128
            };
            let name = e
                .values()
                .flatten()
                .find(|x| x.value as i128 == value)
                .map(|x| x.name.to_owned());
            Value::Enum { name, value }
        }
        _ => Value::Unsigned(v),
    })
}

/// A `char` array's text when it is printable up to its first NUL (and all NULs after).
fn as_text(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let (text, rest) = raw.split_at(end);
    if rest.iter().any(|&b| b != 0) || text.iter().any(|b| !(0x20..=0x7e).contains(b)) {
        return None;
    }
    Some(String::from_utf8_lossy(text).into_owned())
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Signed(v) => write!(f, "{v}"),
            Value::Unsigned(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Char(c) if (0x20..0x7f).contains(c) => write!(f, "'{}'", char::from(*c)),
            Value::Char(c) => write!(f, "'\\x{c:02x}'"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Enum {
                name: Some(name), ..
            } => f.write_str(name),
            Value::Enum { name: None, value } => write!(f, "{value}"),
            Value::Pointer(p) => write!(f, "{p:#x}"),
            Value::Text(t) => write!(f, "{t:?}"),
            Value::Struct(members) => {
                f.write_str("{")?;
                for (i, (name, value)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if name.is_empty() {
                        write!(f, " {value}")?;
                    } else {
                        write!(f, " {name}: {value}")?;
                    }
                }
                f.write_str(if members.is_empty() { "}" } else { " }" })
            }
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Bytes(bytes) => {
                f.write_str("<")?;
                for (i, b) in bytes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                f.write_str(">")
            }
        }
    }
}

/// The C spelling of type `id`: `struct event`, `unsigned int`, `char[16]`, `u64 *`.
pub fn type_name(btf: &Btf, id: u32) -> String {
    type_name_depth(btf, id, 0)
}

fn type_name_depth(btf: &Btf, id: u32, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "...".into();
    }
    let Ok(ty) = btf.type_by_id(id) else {
        return format!("<type {id}>");
    };
    let named = |prefix: &str| {
        if ty.name.is_empty() {
            format!("{prefix}(anon)")
        } else {
            format!("{prefix}{}", ty.name)
        }
    };
    match ty.kind {
        TypeKind::Void => "void".into(),
        TypeKind::Int(_) | TypeKind::Float { .. } | TypeKind::Typedef { .. } => named(""),
        TypeKind::Struct(_) => named("struct "),
        TypeKind::Union(_) => named("union "),
        TypeKind::Enum(_) | TypeKind::Enum64(_) => named("enum "),
        TypeKind::Fwd { is_union } => named(if is_union { "union " } else { "struct " }),
        TypeKind::Ptr { target } => {
            let inner = type_name_depth(btf, target, depth + 1);
            if inner.ends_with('*') {
                format!("{inner}*")
            } else {
                format!("{inner} *")
            }
        }
        TypeKind::Array(a) => format!("{}[{}]", type_name_depth(btf, a.elem, depth + 1), a.nelems),
        TypeKind::Const { target } => format!("const {}", type_name_depth(btf, target, depth + 1)),
        TypeKind::Volatile { target } => {
            format!("volatile {}", type_name_depth(btf, target, depth + 1))
        }
        TypeKind::Restrict { target } | TypeKind::TypeTag { target } => {
            type_name_depth(btf, target, depth + 1)
        }
        TypeKind::FuncProto(p) => {
            let params: Vec<String> = p
                .params()
                .flatten()
                .map(|param| {
                    if param.type_id == 0 && param.name.is_empty() {
                        "...".to_owned()
                    } else {
                        type_name_depth(btf, param.type_id, depth + 1)
                    }
                })
                .collect();
            format!(
                "{} (*)({})",
                type_name_depth(btf, p.ret, depth + 1),
                params.join(", ")
            )
        }
        TypeKind::Func { .. } | TypeKind::Var { .. } | TypeKind::Datasec(_) => named(""),
        TypeKind::DeclTag { target, .. } => type_name_depth(btf, target, depth + 1),
    }
}

/// A function's prototype from its `FUNC` type: `int handle(void * ctx)`.
pub fn func_signature(btf: &Btf, func_id: u32) -> Option<String> {
    let func = btf.type_by_id(func_id).ok()?;
    let TypeKind::Func { proto, .. } = func.kind else {
        return None;
    };
    let TypeKind::FuncProto(p) = btf.type_by_id(proto).ok()?.kind else {
        return None;
    };
    let params: Vec<String> = p
        .params()
        .flatten()
        .map(|param| {
            let ty = type_name(btf, param.type_id);
            if param.name.is_empty() {
                ty
            } else {
                format!("{ty} {}", param.name)
            }
        })
        .collect();
    Some(format!(
        "{} {}({})",
        type_name(btf, p.ret),
        func.name,
        params.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::BtfKind;

    const EVENT: &[u8] = include_bytes!("../../../tests/bpf/obj/log_programs.bpf.o");

    #[test]
    fn ints_enums_and_text_read_from_a_real_object() {
        let object = crate::obj::Object::parse(EVENT).unwrap();
        let btf = object.btf.as_ref().unwrap();
        let uint = btf
            .ids_by_name("unsigned int")
            .find(|&id| btf.kind(id) == Ok(BtfKind::Int))
            .unwrap();
        assert_eq!(
            format_value(btf, uint, &7u32.to_ne_bytes()).unwrap(),
            Value::Unsigned(7)
        );
        let short = format_value(btf, uint, &[1, 2]).unwrap_err();
        assert!(
            matches!(
                short,
                ValueError::Short {
                    needed: 4,
                    len: 2,
                    ..
                }
            ),
            "{short}"
        );
    }

    fn empty_btf() -> Btf {
        let mut raw = Vec::new();
        raw.extend_from_slice(&0xeb9fu16.to_le_bytes());
        raw.extend_from_slice(&[1, 0]);
        for v in [24u32, 0, 0, 0, 1] {
            raw.extend_from_slice(&v.to_le_bytes());
        }
        raw.push(0);
        Btf::parse(&raw).unwrap()
    }

    fn words(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn add_array(btf: &mut Btf, elem: u32, index: u32, n: u32) -> u32 {
        btf.add_raw_type(&words(&[0, BtfKind::Array.raw() << 24, 0, elem, index, n]))
    }

    /// Members are (name, type, bit offset, bitfield size).
    fn add_struct(btf: &mut Btf, name: &str, size: u32, members: &[(&str, u32, u32, u32)]) -> u32 {
        let name_off = btf.add_string(name);
        let bitfields = members.iter().any(|m| m.3 > 0);
        let info =
            (BtfKind::Struct.raw() << 24) | (u32::from(bitfields) << 31) | members.len() as u32;
        let mut rec = vec![name_off, info, size];
        for (n, ty, off, bits) in members {
            let n = btf.add_string(n);
            rec.extend_from_slice(&[n, *ty, if bitfields { (bits << 24) | off } else { *off }]);
        }
        btf.add_raw_type(&words(&rec))
    }

    #[test]
    fn structs_arrays_and_bitfields_from_hand_built_btf() {
        let mut btf = empty_btf();
        let int = btf.add_int("int", 4, crate::btf::int_encoding::SIGNED, 32);
        let ch = btf.add_int("char", 1, crate::btf::int_encoding::SIGNED, 8);
        let name = add_array(&mut btf, ch, int, 8);
        let pair = add_array(&mut btf, int, int, 2);
        let s = add_struct(
            &mut btf,
            "event",
            20,
            &[
                ("pid", int, 0, 0),
                ("comm", name, 32, 0),
                ("xy", pair, 96, 0),
            ],
        );
        let b = add_struct(&mut btf, "bits", 4, &[("lo", int, 0, 3), ("hi", int, 3, 5)]);
        let (color, red, green) = (
            btf.add_string("color"),
            btf.add_string("RED"),
            btf.add_string("GREEN"),
        );
        let color = btf.add_raw_type(&words(&[
            color,
            (BtfKind::Enum.raw() << 24) | 2,
            4,
            red,
            0,
            green,
            7,
        ]));
        assert_eq!(
            format_value(&btf, color, &7u32.to_ne_bytes())
                .unwrap()
                .to_string(),
            "GREEN"
        );
        assert_eq!(
            format_value(&btf, color, &3u32.to_ne_bytes())
                .unwrap()
                .to_string(),
            "3"
        );
        assert_eq!(type_name(&btf, color), "enum color");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(-4i32).to_ne_bytes());
        bytes.extend_from_slice(b"bash\0\0\0\0");
        bytes.extend_from_slice(&1i32.to_ne_bytes());
        bytes.extend_from_slice(&2i32.to_ne_bytes());
        let v = format_value(&btf, s, &bytes).unwrap();
        assert_eq!(v.to_string(), r#"{ pid: -4, comm: "bash", xy: [1, 2] }"#);
        assert_eq!(type_name(&btf, s), "struct event");
        assert_eq!(type_name(&btf, name), "char[8]");
        // lo = 0b101 (-3 as a signed 3-bit field), hi = 0b10011 (-13).
        let raw = (0b10011 << 3) | 0b101u32;
        assert_eq!(
            format_value(&btf, b, &raw.to_ne_bytes())
                .unwrap()
                .to_string(),
            "{ lo: -3, hi: -13 }"
        );
    }
}
