//! The one seam to the BTF writers: BTF → C header (`vmlinux.h`) and BTF → Rust types.
//!
//! Everything else in this crate reaches the writers through [`c_header`] and [`RustTypes`].
//! The Rust generator here is interim (the bpf-core one replaces it): `#[repr(C)]` types with
//! explicit padding, zerocopy derives, compile-time size and offset assertions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use bpf_core::btf::{Btf, Composite, TypeKind};

use crate::names::ident;

/// `BTF_INT_BOOL`.
const INT_BOOL: u8 = 4;

/// `btf` written as a C header equivalent to `bpftool btf dump file ... format c`.
pub fn c_header(btf_path: &std::path::Path) -> Result<String, String> {
    // Interim: bpftool, until bpf-core's writer is merged.
    let out = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(btf_path)
        .args(["format", "c"])
        .output()
        .map_err(|e| format!("running bpftool (install bpftool): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bpftool btf dump {}: {}",
            btf_path.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("bpftool output: {e}"))
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

/// Rust types for BTF types: ask [`type_ref`](Self::type_ref) for each type used, then
/// [`code`](Self::code) for the definitions of every named type reached.
#[derive(Debug)]
pub struct RustTypes<'b> {
    btf: &'b Btf,
    zerocopy: String,
    names: HashMap<u32, String>,
    taken: HashSet<String>,
    pending: Vec<u32>,
    code: BTreeMap<String, String>,
}

impl<'b> RustTypes<'b> {
    /// Types derive zerocopy's traits through `zerocopy_path` (e.g. `::bpf_programs::zerocopy`).
    pub fn new(btf: &'b Btf, zerocopy_path: &str) -> Self {
        RustTypes {
            btf,
            zerocopy: zerocopy_path.to_owned(),
            names: HashMap::new(),
            taken: HashSet::new(),
            pending: Vec::new(),
            code: BTreeMap::new(),
        }
    }

    /// The named struct, union, enum or typedef `name` (kernel types on demand): its Rust name.
    pub fn named(&mut self, name: &str) -> Result<String, String> {
        let id = self
            .btf
            .ids_by_name(name)
            .find(|&id| {
                self.btf.type_by_id(id).is_ok_and(|t| {
                    matches!(
                        t.kind,
                        TypeKind::Struct(_)
                            | TypeKind::Union(_)
                            | TypeKind::Enum(_)
                            | TypeKind::Enum64(_)
                            | TypeKind::Typedef { .. }
                    )
                })
            })
            .ok_or_else(|| format!("no struct, union, enum or typedef `{name}` in the BTF"))?;
        self.type_ref(id)
    }

    /// The Rust spelling of type `id`; named composite types are queued for [`code`](Self::code).
    pub fn type_ref(&mut self, id: u32) -> Result<String, String> {
        let t = self.btf.type_by_id(id).map_err(|e| e.to_string())?;
        Ok(match t.kind {
            TypeKind::Int(int) => {
                // Plain `char` holds text: bytes, whatever its signedness.
                let signed = int.is_signed() && int.encoding != INT_BOOL && t.name != "char";
                match (int.size, signed) {
                    (1, false) => "u8".into(),
                    (1, true) => "i8".into(),
                    (2, false) => "u16".into(),
                    (2, true) => "i16".into(),
                    (4, false) => "u32".into(),
                    (4, true) => "i32".into(),
                    (8, false) => "u64".into(),
                    (8, true) => "i64".into(),
                    (16, false) => "u128".into(),
                    (16, true) => "i128".into(),
                    (n, _) => format!("[u8; {n}]"),
                }
            }
            TypeKind::Float { size: 4 } => "f32".into(),
            TypeKind::Float { size: 8 } => "f64".into(),
            TypeKind::Float { size } => format!("[u8; {size}]"),
            // Pointers of BPF programs are 64-bit whatever user space is.
            TypeKind::Ptr { .. } => "u64".into(),
            TypeKind::Array(a) => format!("[{}; {}]", self.type_ref(a.elem)?, a.nelems),
            TypeKind::Const { target }
            | TypeKind::Volatile { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target } => self.type_ref(target)?,
            TypeKind::Typedef { target } => {
                let resolved = self.btf.resolve(target).map_err(|e| e.to_string())?;
                let anonymous = self.btf.type_by_id(resolved).is_ok_and(|r| {
                    r.name.is_empty()
                        && matches!(
                            r.kind,
                            TypeKind::Struct(_)
                                | TypeKind::Union(_)
                                | TypeKind::Enum(_)
                                | TypeKind::Enum64(_)
                        )
                });
                if anonymous && !self.names.contains_key(&resolved) {
                    self.name_type(resolved, t.name);
                }
                self.type_ref(target)?
            }
            TypeKind::Struct(_) | TypeKind::Union(_) | TypeKind::Enum(_) | TypeKind::Enum64(_) => {
                if let Some(name) = self.names.get(&id) {
                    return Ok(name.clone());
                }
                let base = if t.name.is_empty() {
                    format!("__anon_{id}")
                } else {
                    t.name.to_owned()
                };
                self.name_type(id, &base)
            }
            TypeKind::Fwd { .. } => {
                return Err(format!(
                    "`{}` is only declared in this BTF, not defined",
                    t.name
                ));
            }
            other => {
                return Err(format!(
                    "type {id} ({:?}) has no Rust equivalent",
                    other.kind()
                ));
            }
        })
    }

    fn name_type(&mut self, id: u32, base: &str) -> String {
        let mut name = ident(base);
        if !self.taken.insert(name.clone()) {
            name = format!("{name}_{id}");
            self.taken.insert(name.clone());
        }
        self.names.insert(id, name.clone());
        self.pending.push(id);
        name
    }

    /// The definitions of every type reached so far, and of those they reach.
    pub fn code(mut self) -> Result<String, String> {
        while let Some(id) = self.pending.pop() {
            let name = self.names[&id].clone();
            let t = self.btf.type_by_id(id).map_err(|e| e.to_string())?;
            let code = match t.kind {
                TypeKind::Struct(c) => self.struct_code(&name, id, c)?,
                TypeKind::Union(c) => self.opaque_code(&name, c.size, id)?,
                TypeKind::Enum(e) | TypeKind::Enum64(e) => {
                    let repr = match (e.size, e.signed) {
                        (1, false) => "u8",
                        (1, true) => "i8",
                        (2, false) => "u16",
                        (2, true) => "i16",
                        (4, false) => "u32",
                        (4, true) => "i32",
                        (_, false) => "u64",
                        (_, true) => "i64",
                    };
                    let mut out = format!(
                        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, {zc}::FromBytes, \
                         {zc}::IntoBytes, {zc}::Immutable, {zc}::KnownLayout)]\n\
                         #[zerocopy(crate = \"{zc}\")]\n#[repr(transparent)]\n\
                         pub struct {name}(pub {repr});\n\nimpl {name} {{\n",
                        zc = self.zerocopy
                    );
                    for value in e.values() {
                        let value = value.map_err(|e| e.to_string())?;
                        let literal = if e.signed {
                            format!("{}", value.value as i64)
                        } else {
                            format!("{}", value.value)
                        };
                        let _ = writeln!(
                            out,
                            "    pub const {}: {name} = {name}({literal} as {repr});",
                            ident(value.name)
                        );
                    }
                    out.push_str("}\n");
                    out
                }
                _ => continue,
            };
            self.code.insert(name, code);
        }
        Ok(self.code.into_values().collect::<Vec<_>>().join("\n"))
    }

    fn struct_code(&mut self, name: &str, id: u32, c: Composite<'_>) -> Result<String, String> {
        let mut fields = Vec::new();
        // Bitfields and members not on a byte boundary: byte ranges kept as opaque storage.
        let mut bytes: Vec<(u32, u32)> = Vec::new();
        for (index, member) in c.members().enumerate() {
            let member = member.map_err(|e| e.to_string())?;
            let offset = member.bit_offset / 8;
            if member.bitfield_size != 0 || member.bit_offset % 8 != 0 {
                let end = (member.bit_offset + member.bitfield_size).div_ceil(8);
                bytes.push((offset, end.max(offset + 1)));
                continue;
            }
            let field_name = if member.name.is_empty() {
                format!("__anon_{index}")
            } else {
                ident(member.name)
            };
            let rust_type = self.type_ref(member.type_id)?;
            let size = self
                .btf
                .type_size(member.type_id)
                .map_err(|e| e.to_string())?;
            let align = self
                .btf
                .type_align(member.type_id)
                .map_err(|e| e.to_string())?;
            fields.push(Field {
                name: field_name,
                rust_type,
                offset,
                size,
                align,
            });
        }
        bytes.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (start, end) in bytes {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        for (i, (start, end)) in merged.into_iter().enumerate() {
            fields.push(Field {
                name: format!("_bitfield_{i}"),
                rust_type: format!("[u8; {}]", end - start),
                offset: start,
                size: end - start,
                align: 1,
            });
        }
        let align = self.btf.type_align(id).map_err(|e| e.to_string())?;
        Ok(layout_struct(
            name,
            "",
            fields,
            c.size,
            align,
            &self.zerocopy,
        ))
    }

    fn opaque_code(&mut self, name: &str, size: u32, id: u32) -> Result<String, String> {
        let align = self.btf.type_align(id).map_err(|e| e.to_string())?;
        let fields = vec![Field {
            name: "bytes".into(),
            rust_type: format!("[u8; {size}]"),
            offset: 0,
            size,
            align: 1,
        }];
        Ok(layout_struct(
            name,
            "/// A C union, kept as its bytes.\n",
            fields,
            size,
            align,
            &self.zerocopy,
        ))
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
