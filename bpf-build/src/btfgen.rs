//! The one seam to bpf-core's BTF writers: BTF → C header (`vmlinux.h`) and BTF → Rust types.
//! Everything else in this crate reaches them through [`c_header`] and [`RustTypes`];
//! [`layout_struct`] lays out the data-section structs, whose offsets come from the object's
//! symbols rather than from a BTF struct.

use std::fmt::Write as _;

use bpf_core::btf::{Btf, CHeaderOptions, RustTypesOptions, write_c_header};

/// BTF (raw, or an ELF's `.BTF` section) written as a C header, as
/// `bpftool btf dump file ... format c` writes it.
pub fn c_header(btf_bytes: Vec<u8>) -> Result<String, String> {
    let btf = Btf::parse_file_contents(btf_bytes).map_err(|e| chain(&e))?;
    let mut out = String::new();
    write_c_header(&btf, &mut out, &CHeaderOptions::default()).map_err(|e| chain(&e))?;
    Ok(out)
}

/// An error with its causes, for messages that are strings.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One field of a struct being laid out: name, Rust type, byte offset, size and alignment.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub rust_type: String,
    pub offset: u32,
    pub size: u32,
    pub align: u32,
}

/// Rust types for BTF types, from bpf-core's generator: ask [`type_ref`](Self::type_ref) for
/// each type used, then [`code`](Self::code) for the definitions of every type reached.
#[derive(Debug)]
pub struct RustTypes<'b> {
    inner: bpf_core::btf::RustTypes<'b>,
}

impl<'b> RustTypes<'b> {
    /// Types derive zerocopy's traits through `zerocopy_path` (e.g. `::bpf_programs::zerocopy`).
    pub fn new(btf: &'b Btf, zerocopy_path: &str) -> Self {
        let options = RustTypesOptions {
            zerocopy: zerocopy_path.to_owned(),
            ..RustTypesOptions::default()
        };
        RustTypes {
            inner: bpf_core::btf::RustTypes::new(btf, options),
        }
    }

    /// The named struct, union, enum or typedef `name` (kernel types on demand): its Rust name.
    pub fn named(&mut self, name: &str) -> Result<String, String> {
        self.inner.add_by_name(name).map_err(|e| chain(&e))
    }

    /// The Rust spelling of type `id`; the types it needs are queued for [`code`](Self::code).
    pub fn type_ref(&mut self, id: u32) -> Result<String, String> {
        self.inner.add(id).map_err(|e| chain(&e))
    }

    /// The definitions of every type reached.
    pub fn code(mut self) -> Result<String, String> {
        let mut out = String::new();
        self.inner.write(&mut out).map_err(|e| chain(&e))?;
        Ok(out)
    }
}

/// A `#[repr(C)]` struct with `fields` at their offsets, explicit padding between and after
/// them, zerocopy derives and compile-time size and offset assertions. Fields that cannot sit
/// at their offset under their natural alignment make the struct `packed`.
pub fn layout_struct(
    name: &str,
    doc: &str,
    mut fields: Vec<Field>,
    size: u32,
    align: u32,
    zerocopy: &str,
) -> String {
    fields.sort_by_key(|f| f.offset);
    let packed = fields
        .iter()
        .any(|f| f.align > 1 && f.offset % f.align != 0)
        || (align > 1 && !size.is_multiple_of(align));
    let natural = fields.iter().map(|f| f.align).max().unwrap_or(1);
    let repr = if packed {
        "C, packed".to_owned()
    } else if align > natural {
        format!("C, align({align})")
    } else {
        "C".to_owned()
    };
    let mut body = String::new();
    let mut asserts = String::new();
    let mut cursor = 0u32;
    let mut pads = 0;
    for field in &fields {
        if field.offset < cursor {
            // Overlapping storage cannot be laid out as fields; the size assertion reports it.
            continue;
        }
        if field.offset > cursor {
            let _ = writeln!(body, "    pub _pad{pads}: [u8; {}],", field.offset - cursor);
            pads += 1;
        }
        let _ = writeln!(body, "    pub {}: {},", field.name, field.rust_type);
        let _ = writeln!(
            asserts,
            "    assert!(::core::mem::offset_of!({name}, {}) == {});",
            field.name, field.offset
        );
        cursor = field.offset + field.size;
    }
    if size > cursor {
        let _ = writeln!(body, "    pub _pad{pads}: [u8; {}],", size - cursor);
    }
    format!(
        "{doc}#[derive(Clone, Copy, Debug, {zerocopy}::FromBytes, {zerocopy}::IntoBytes, \
         {zerocopy}::Immutable, {zerocopy}::KnownLayout)]\n\
         #[zerocopy(crate = \"{zerocopy}\")]\n#[repr({repr})]\npub struct {name} {{\n{body}}}\n\n\
         const _: () = {{\n    assert!(::core::mem::size_of::<{name}>() == {size});\n{asserts}}};\n"
    )
}
