//! Writing laid-out items as Rust source.

use std::fmt::Write;

use super::ident;
use super::items::{Bitfield, BitfieldValue, EnumItem, Item, StructItem, UnionItem};
use super::options::RustTypesOptions;

const ALLOW: &str = "#[allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::all)]";

pub(super) fn item(
    item: &Item,
    options: &RustTypesOptions,
    out: &mut impl Write,
) -> std::fmt::Result {
    match item {
        Item::Struct(s) => write_struct(s, options, out),
        Item::Union(u) => write_union(u, options, out),
        Item::Enum(e) => write_enum(e, options, out),
        Item::Alias {
            name,
            c_name,
            target,
        } => writeln!(
            out,
            "/// `{c_name}`\n{ALLOW}\npub type {name} = {target};\n"
        ),
    }
}

/// The derive line and, for a re-exported zerocopy, the attribute naming its path.
fn derives(options: &RustTypesOptions, extra: &[&str], out: &mut impl Write) -> std::fmt::Result {
    let z = &options.zerocopy;
    out.write_str("#[derive(Clone, Copy")?;
    for e in extra {
        write!(out, ", {e}")?;
    }
    writeln!(
        out,
        ", {z}::FromBytes, {z}::IntoBytes, {z}::Immutable, {z}::KnownLayout)]"
    )?;
    if z != "::zerocopy" {
        writeln!(out, "#[zerocopy(crate = \"{z}\")]")?;
    }
    Ok(())
}

fn default_impl(name: &str, options: &RustTypesOptions, out: &mut impl Write) -> std::fmt::Result {
    writeln!(
        out,
        "impl ::core::default::Default for {name} {{\n    \
         fn default() -> Self {{\n        \
         <Self as {}::FromZeros>::new_zeroed()\n    }}\n}}",
        options.zerocopy
    )
}

fn size_assertion(name: &str, size: u32, out: &mut impl Write) -> std::fmt::Result {
    writeln!(
        out,
        "const _: () = assert!(::core::mem::size_of::<{name}>() == {size});"
    )
}

fn write_struct(
    s: &StructItem,
    options: &RustTypesOptions,
    out: &mut impl Write,
) -> std::fmt::Result {
    writeln!(out, "/// `{}`, {} bytes.", s.c_name, s.size)?;
    let repr = if s.packed { "C, packed" } else { "C" };
    writeln!(out, "#[repr({repr})]")?;
    let debug: &[&str] = if options.derive_debug {
        &["Debug"]
    } else {
        &[]
    };
    derives(options, debug, out)?;
    writeln!(out, "{ALLOW}\npub struct {} {{", s.name)?;
    if let Some(align) = &s.align_field {
        writeln!(out, "    pub _align: [{align}; 0],")?;
    }
    for f in &s.fields {
        writeln!(out, "    pub {}: {},", f.name, f.ty)?;
    }
    writeln!(out, "}}")?;
    default_impl(&s.name, options, out)?;
    if !s.bitfields.is_empty() {
        writeln!(out, "{ALLOW}\nimpl {} {{", s.name)?;
        for b in &s.bitfields {
            bitfield_accessors(b, out)?;
        }
        writeln!(out, "}}")?;
    }
    if options.layout_assertions {
        size_assertion(&s.name, s.size, out)?;
        for f in s.fields.iter().filter(|f| f.is_member) {
            writeln!(
                out,
                "const _: () = assert!(::core::mem::offset_of!({}, {}) == {});",
                s.name, f.name, f.offset
            )?;
        }
    }
    writeln!(out)
}

fn write_union(
    u: &UnionItem,
    options: &RustTypesOptions,
    out: &mut impl Write,
) -> std::fmt::Result {
    let z = &options.zerocopy;
    writeln!(
        out,
        "/// `{}`, {} bytes, as its bytes: each member is read and written by value.",
        u.c_name, u.size
    )?;
    writeln!(out, "#[repr(C)]")?;
    let debug: &[&str] = if options.derive_debug {
        &["Debug"]
    } else {
        &[]
    };
    derives(options, debug, out)?;
    writeln!(out, "{ALLOW}\npub struct {} {{", u.name)?;
    if let Some(align) = &u.align_field {
        writeln!(out, "    pub _align: [{align}; 0],")?;
    }
    writeln!(out, "    pub bytes: [u8; {}],\n}}", u.size)?;
    default_impl(&u.name, options, out)?;
    writeln!(out, "{ALLOW}\nimpl {} {{", u.name)?;
    for m in &u.members {
        let setter = format!("set_{}", ident::bare(&m.name));
        writeln!(
            out,
            "    pub fn {name}(&self) -> {ty} {{\n        \
             let mut value = <{ty} as {z}::FromZeros>::new_zeroed();\n        \
             {z}::IntoBytes::as_mut_bytes(&mut value).copy_from_slice(&self.bytes[..{size}]);\n        \
             value\n    }}\n    \
             pub fn {setter}(&mut self, value: {ty}) {{\n        \
             self.bytes[..{size}].copy_from_slice({z}::IntoBytes::as_bytes(&value));\n    }}",
            name = m.name,
            ty = m.ty,
            size = m.size,
        )?;
    }
    for b in &u.bitfields {
        bitfield_accessors(b, out)?;
    }
    writeln!(out, "}}")?;
    if options.layout_assertions {
        size_assertion(&u.name, u.size, out)?;
    }
    writeln!(out)
}

/// `name()` and `set_name()` over the little-endian bits of the storage bytes.
fn bitfield_accessors(b: &Bitfield, out: &mut impl Write) -> std::fmt::Result {
    let start = b.storage_start;
    let end = b.storage_start + b.storage_len;
    let mask = if b.width >= 128 {
        u128::MAX
    } else {
        (1u128 << b.width) - 1
    };
    let read = format!(
        "let mut raw = [0u8; 16];\n        \
         raw[..{len}].copy_from_slice(&self.{storage}[{start}..{end}]);\n        \
         let bits = (u128::from_le_bytes(raw) >> {shift}) & {mask:#x};",
        len = b.storage_len,
        storage = b.storage,
        shift = b.shift,
    );
    let (ty, convert, raw_value) = match &b.value {
        BitfieldValue::Bool => (
            "bool".to_owned(),
            "bits != 0".to_owned(),
            "u128::from(value)".to_owned(),
        ),
        BitfieldValue::Int { ty, signed: false } => (
            ty.clone(),
            format!("bits as {ty}"),
            "value as u128".to_owned(),
        ),
        BitfieldValue::Int { ty, signed: true } => {
            // Sign-extend from the field's width.
            let shift = 128 - b.width;
            (
                ty.clone(),
                format!("(((bits << {shift}) as i128) >> {shift}) as {ty}"),
                "value as u128".to_owned(),
            )
        }
        BitfieldValue::Enum { ty, repr } => {
            let signed = repr.starts_with('i');
            let value = if signed {
                let shift = 128 - b.width;
                format!("{ty}((((bits << {shift}) as i128) >> {shift}) as {repr})")
            } else {
                format!("{ty}(bits as {repr})")
            };
            (ty.clone(), value, "value.0 as u128".to_owned())
        }
    };
    writeln!(
        out,
        "    pub fn {name}(&self) -> {ty} {{\n        {read}\n        {convert}\n    }}",
        name = b.name,
    )?;
    writeln!(
        out,
        "    pub fn set_{bare}(&mut self, value: {ty}) {{\n        \
         let mut raw = [0u8; 16];\n        \
         raw[..{len}].copy_from_slice(&self.{storage}[{start}..{end}]);\n        \
         let mut word = u128::from_le_bytes(raw);\n        \
         word &= !({mask:#x} << {shift});\n        \
         word |= ({raw_value} & {mask:#x}) << {shift};\n        \
         self.{storage}[{start}..{end}].copy_from_slice(&word.to_le_bytes()[..{len}]);\n    }}",
        bare = ident::bare(&b.name),
        len = b.storage_len,
        storage = b.storage,
        shift = b.shift,
    )
}

fn write_enum(e: &EnumItem, options: &RustTypesOptions, out: &mut impl Write) -> std::fmt::Result {
    writeln!(
        out,
        "/// `{}`: a `{}` that may hold values beyond the listed constants.",
        e.c_name, e.repr
    )?;
    writeln!(out, "#[repr(transparent)]")?;
    derives(
        options,
        &["PartialEq", "Eq", "Hash", "PartialOrd", "Ord"],
        out,
    )?;
    writeln!(out, "{ALLOW}\npub struct {}(pub {});", e.name, e.repr)?;
    if !e.values.is_empty() {
        writeln!(out, "{ALLOW}\nimpl {} {{", e.name)?;
        for (name, value) in &e.values {
            writeln!(out, "    pub const {name}: Self = Self({value});")?;
        }
        writeln!(out, "}}")?;
    }
    // Debug names the constant when the value has one.
    writeln!(
        out,
        "impl ::core::fmt::Debug for {} {{\n    \
         fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{",
        e.name
    )?;
    let mut seen = Vec::new();
    for (name, value) in &e.values {
        if seen.contains(&value) {
            continue;
        }
        seen.push(value);
        writeln!(
            out,
            "        if *self == Self::{name} {{\n            return f.write_str(\"{}\");\n        }}",
            ident::bare(name)
        )?;
    }
    writeln!(
        out,
        "        write!(f, \"{}({{}})\", self.0)\n    }}\n}}",
        ident::bare(&e.name)
    )?;
    if options.layout_assertions {
        size_assertion(&e.name, e.repr_size(), out)?;
    }
    writeln!(out)
}

impl EnumItem {
    fn repr_size(&self) -> u32 {
        match self.repr.as_str() {
            "u8" | "i8" => 1,
            "u16" | "i16" => 2,
            "u32" | "i32" => 4,
            _ => 8,
        }
    }
}
