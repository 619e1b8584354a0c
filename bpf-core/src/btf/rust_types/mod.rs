//! BTF → Rust: `#[repr(C)]` types for C types, laid out byte for byte as BTF says and plain old
//! data by construction, for map keys and values, ring buffer events, globals and kernel types.
//!
//! [`RustTypes`] collects root types ([`RustTypes::add`] by id, [`RustTypes::add_by_name`]) and
//! everything they contain by value, then [`RustTypes::write`] writes them:
//!
//! - a struct becomes a `#[repr(C)]` struct (`#[repr(C, packed)]` when BTF lays it out packed)
//!   whose every gap is an explicit `_pad_N: [u8; n]` field, so no byte is padding and any bit
//!   pattern is a valid value; it derives zerocopy's `FromBytes`, `IntoBytes`, `Immutable` and
//!   `KnownLayout`, so the compiler checks that claim;
//! - bitfields share a byte-array storage field, read and written through `name()` and
//!   `set_name()` methods;
//! - a union becomes a struct over its bytes (`bytes: [u8; N]`, aligned as the union), with a
//!   by-value getter and setter per member: zerocopy cannot prove a union padding-free;
//! - an enum becomes a transparent newtype over its integer with one associated constant per
//!   enumerator (a kernel may send values the C enum does not list);
//! - a typedef becomes a type alias; pointers become `u64` (BPF pointers are 64-bit addresses,
//!   never dereferenceable from user space); a flexible array member a zero-length array;
//! - every struct and union is followed by `const` assertions of its size and of each field's
//!   offset, taken from BTF: a type that drifted from its C definition fails to compile.
//!
//! Anonymous types are named after where they occur (`task_struct_anon1`, `sk_buff_cb`); a
//! name used twice becomes `name___2`; Rust keywords are written raw (`r#type`).
//!
//! The derive paths are configurable ([`RustTypesOptions::zerocopy`]) so generated code
//! compiles in a crate that reaches zerocopy only through a re-export.
//!
//! ```no_run
//! use bpf_core::btf::{Btf, RustTypes, RustTypesOptions};
//!
//! let btf = Btf::parse_owned(std::fs::read("/sys/kernel/btf/vmlinux")?, None)?;
//! let mut types = RustTypes::new(&btf, RustTypesOptions::default());
//! assert_eq!(types.add_by_name("task_struct")?, "task_struct");
//! let mut code = String::new();
//! types.write(&mut code)?; // task_struct and every struct it embeds
//! std::fs::write("kernel_types.rs", code)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ident;
mod items;
mod layout;
mod options;
mod render;

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write};

use super::{Btf, BtfError, BtfKind, TypeKind};
use items::Item;
pub use options::RustTypesOptions;

/// Deepest chain of typedefs, qualifiers and arrays followed; deeper means malformed BTF.
const MAX_DEPTH: usize = 64;

/// What stopped Rust generation.
#[derive(Debug, thiserror::Error)]
pub enum RustTypesError {
    #[error("invalid BTF")]
    Btf(#[from] BtfError),
    #[error("writing the generated code failed")]
    Format(#[from] fmt::Error),
    #[error("no struct, union, enum or typedef named `{0}` in the BTF")]
    NotFound(String),
    #[error("BTF type #{id} ({what}) has no Rust value type: {reason}")]
    Unrepresentable {
        id: u32,
        what: String,
        reason: String,
    },
    #[error("BTF type #{id}: type references nest too deep (malformed BTF?)")]
    TooDeep { id: u32 },
}

/// A type as Rust spells it, with the size and alignment Rust gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RustTy {
    text: String,
    size: u32,
    align: u32,
}

impl RustTy {
    fn new(text: impl Into<String>, size: u32, align: u32) -> RustTy {
        RustTy {
            text: text.into(),
            size,
            align,
        }
    }
}

/// Generates Rust definitions for a set of BTF types and everything they contain.
#[derive(Debug)]
pub struct RustTypes<'b> {
    btf: &'b Btf,
    options: RustTypesOptions,
    /// Rust name of each struct, union, enum or alias that is (to be) generated.
    names: HashMap<u32, String>,
    /// Names taken, without raw prefixes.
    taken: HashSet<String>,
    /// How each typedef is spelled (its alias, or what it stands for when no alias is needed).
    typedefs: HashMap<u32, RustTy>,
    /// Types to define, in the order they were found.
    queue: Vec<u32>,
    /// Laid-out items, by id.
    items: HashMap<u32, Item>,
    written: usize,
}

impl<'b> RustTypes<'b> {
    pub fn new(btf: &'b Btf, options: RustTypesOptions) -> RustTypes<'b> {
        RustTypes {
            btf,
            options,
            names: HashMap::new(),
            taken: HashSet::new(),
            typedefs: HashMap::new(),
            queue: Vec::new(),
            items: HashMap::new(),
            written: 0,
        }
    }

    /// Adds type `id` (and what it contains) and returns how Rust spells it: `task_struct`,
    /// `u32`, `[u8; 16]`. Pointers are `u64`.
    pub fn add(&mut self, id: u32) -> Result<String, RustTypesError> {
        Ok(self.spell(id, None, 0)?.text)
    }

    /// Adds the struct, union, typedef or enum named `name` (in that order of preference when
    /// several kinds share it) and returns its Rust spelling.
    pub fn add_by_name(&mut self, name: &str) -> Result<String, RustTypesError> {
        let id = [
            BtfKind::Struct,
            BtfKind::Union,
            BtfKind::Typedef,
            BtfKind::Enum,
            BtfKind::Enum64,
        ]
        .into_iter()
        .find_map(|kind| self.btf.find_by_name_kind(name, kind))
        .ok_or_else(|| RustTypesError::NotFound(name.to_owned()))?;
        self.add(id)
    }

    /// Adds a struct named `name` laid out as the data section `id` (a `DATASEC`, e.g.
    /// `.rodata`): one field per global variable at its offset, padding between, as a
    /// skeleton presents a section's globals. Static and extern variables are left out (their
    /// bytes become padding). Returns the struct's Rust name (`name`, made unique).
    pub fn add_datasec(&mut self, id: u32, name: &str) -> Result<String, RustTypesError> {
        if let Some(known) = self.names.get(&id) {
            return Ok(known.clone());
        }
        if !matches!(self.btf.type_by_id(id)?.kind, TypeKind::Datasec(_)) {
            return Err(self.unrepresentable(id, "not a DATASEC"));
        }
        let name = self.claim_name(id, name);
        self.queue.push(id);
        Ok(name)
    }

    /// The Rust name given to type `id`, once added (directly or as a dependency).
    pub fn rust_name(&self, id: u32) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// Writes every definition added since the last call (the first call writes all).
    pub fn write(&mut self, out: &mut impl Write) -> Result<(), RustTypesError> {
        // Laying out a type finds the types it contains: the queue grows while it is walked.
        let mut at = self.written;
        while at < self.queue.len() {
            let id = self.queue[at];
            if !self.items.contains_key(&id) {
                let item = self.lay_out(id)?;
                self.items.insert(id, item);
            }
            at += 1;
        }
        for &id in &self.queue[self.written..] {
            if let Some(item) = self.items.get(&id) {
                render::item(item, &self.options, out)?;
            }
        }
        self.written = self.queue.len();
        Ok(())
    }

    /// Claims a unique Rust type name derived from `wanted`.
    fn claim_name(&mut self, id: u32, wanted: &str) -> String {
        let base = ident::type_name(wanted);
        let mut name = base.clone();
        let mut n = 1;
        while self.taken.contains(ident::bare(&name)) {
            n += 1;
            name = format!("{}___{n}", ident::bare(&base));
        }
        self.taken.insert(ident::bare(&name).to_owned());
        self.names.insert(id, name.clone());
        name
    }

    /// The name of a struct, union or enum to define, queuing it on first use. Anonymous ones
    /// take `anon_name` (from where they occur), or `anon_<id>` at top level.
    fn defined_name(&mut self, id: u32, btf_name: &str, anon_name: Option<&str>) -> String {
        if let Some(name) = self.names.get(&id) {
            return name.clone();
        }
        let fallback;
        let wanted = if !btf_name.is_empty() {
            btf_name
        } else if let Some(anon) = anon_name {
            anon
        } else {
            fallback = format!("anon_{id}");
            &fallback
        };
        let name = self.claim_name(id, wanted);
        self.queue.push(id);
        name
    }

    fn unrepresentable(&self, id: u32, reason: impl Into<String>) -> RustTypesError {
        let what = match self.btf.type_by_id(id) {
            Ok(t) if t.name.is_empty() => format!("anonymous {:?}", t.kind.kind()),
            Ok(t) => format!("{:?} {}", t.kind.kind(), t.name),
            Err(_) => "?".into(),
        };
        RustTypesError::Unrepresentable {
            id,
            what,
            reason: reason.into(),
        }
    }

    /// How Rust spells a value of type `id`; queues the definitions it needs.
    fn spell(
        &mut self,
        id: u32,
        anon_name: Option<&str>,
        depth: usize,
    ) -> Result<RustTy, RustTypesError> {
        if depth > MAX_DEPTH {
            return Err(RustTypesError::TooDeep { id });
        }
        let t = self.btf.type_by_id(id)?;
        Ok(match t.kind {
            TypeKind::Int(int) => {
                let bool_or_char = t.name == "_Bool" || t.name == "bool" || t.name == "char";
                let signed = int.is_signed() && !bool_or_char;
                match (int.size, signed) {
                    (1, false) => RustTy::new("u8", 1, 1),
                    (1, true) => RustTy::new("i8", 1, 1),
                    (2, false) => RustTy::new("u16", 2, 2),
                    (2, true) => RustTy::new("i16", 2, 2),
                    (4, false) => RustTy::new("u32", 4, 4),
                    (4, true) => RustTy::new("i32", 4, 4),
                    (8, false) => RustTy::new("u64", 8, 8),
                    (8, true) => RustTy::new("i64", 8, 8),
                    // Rust's 128-bit integers are 16-aligned; BPF's are 8-aligned.
                    (16, _) => RustTy::new("[u64; 2]", 16, 8),
                    (size, _) => {
                        return Err(self.unrepresentable(id, format!("{size}-byte integer")));
                    }
                }
            }
            TypeKind::Float { size } => match size {
                4 => RustTy::new("f32", 4, 4),
                8 => RustTy::new("f64", 8, 8),
                16 => RustTy::new("[u64; 2]", 16, 8),
                _ => return Err(self.unrepresentable(id, format!("{size}-byte float"))),
            },
            TypeKind::Ptr { .. } => RustTy::new("u64", 8, 8),
            TypeKind::Array(a) => {
                let elem = self.spell(a.elem, anon_name, depth + 1)?;
                let size = elem
                    .size
                    .checked_mul(a.nelems)
                    .ok_or_else(|| self.unrepresentable(id, "array size overflows"))?;
                RustTy::new(format!("[{}; {}]", elem.text, a.nelems), size, elem.align)
            }
            TypeKind::Const { target }
            | TypeKind::Volatile { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target } => self.spell(target, anon_name, depth + 1)?,
            TypeKind::Typedef { target } => self.spell_typedef(id, t.name, target, depth)?,
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                let name = self.defined_name(id, t.name, anon_name);
                // A member without an alignment fails, more precisely, when laid out.
                let align = self.btf.type_align(id).unwrap_or(1);
                RustTy::new(name, c.size, align)
            }
            TypeKind::Enum(e) | TypeKind::Enum64(e) => {
                if !matches!(e.size, 1 | 2 | 4 | 8) {
                    return Err(self.unrepresentable(id, format!("{}-byte enum", e.size)));
                }
                let name = self.defined_name(id, t.name, anon_name);
                RustTy::new(name, e.size, e.size)
            }
            TypeKind::Void => return Err(self.unrepresentable(id, "void has no values")),
            TypeKind::Fwd { .. } => {
                return Err(self.unrepresentable(
                    id,
                    "only declared, never defined in this BTF (its size is unknown)",
                ));
            }
            TypeKind::FuncProto(_) | TypeKind::Func { .. } => {
                return Err(self
                    .unrepresentable(id, "a function is not a value (a pointer to one is a u64)"));
            }
            TypeKind::Var { .. } | TypeKind::Datasec(_) | TypeKind::DeclTag { .. } => {
                return Err(self.unrepresentable(id, "not a type of values"));
            }
        })
    }

    /// A typedef is an alias, unless it would only repeat a name (`typedef struct foo foo`,
    /// `typedef unsigned int u32`) or name an anonymous type, which then takes its name.
    fn spell_typedef(
        &mut self,
        id: u32,
        name: &str,
        target: u32,
        depth: usize,
    ) -> Result<RustTy, RustTypesError> {
        if let Some(known) = self.typedefs.get(&id) {
            return Ok(known.clone());
        }
        // An anonymous struct, union or enum behind the typedef is named after it.
        let behind = self.btf.type_by_id(self.strip_qualifiers(target)?)?;
        let anonymous_definition = behind.name.is_empty()
            && matches!(
                behind.kind,
                TypeKind::Struct(_) | TypeKind::Union(_) | TypeKind::Enum(_) | TypeKind::Enum64(_)
            );
        let anon_name = anonymous_definition.then_some(name);
        let target_ty = self.spell(target, anon_name, depth + 1)?;
        let own = ident::type_name(name);
        let spelled = if anonymous_definition
            || ident::bare(&target_ty.text) == ident::bare(&own)
            || own != ident::escape(name)
        {
            // Same name already, or a primitive's name (`u32`): no alias.
            target_ty
        } else {
            let alias = self.claim_name(id, name);
            self.queue.push(id);
            RustTy::new(alias, target_ty.size, target_ty.align)
        };
        self.typedefs.insert(id, spelled.clone());
        Ok(spelled)
    }

    fn strip_qualifiers(&self, mut id: u32) -> Result<u32, RustTypesError> {
        for _ in 0..MAX_DEPTH {
            match self.btf.type_by_id(id)?.kind {
                TypeKind::Const { target }
                | TypeKind::Volatile { target }
                | TypeKind::Restrict { target }
                | TypeKind::TypeTag { target } => id = target,
                _ => return Ok(id),
            }
        }
        Err(RustTypesError::TooDeep { id })
    }
}

/// Writes Rust definitions for `roots` and every type they contain.
pub fn write_rust_types(
    btf: &Btf,
    roots: &[u32],
    out: &mut impl Write,
    options: &RustTypesOptions,
) -> Result<(), RustTypesError> {
    let mut types = RustTypes::new(btf, options.clone());
    for &id in roots {
        types.add(id)?;
    }
    types.write(out)
}

#[cfg(test)]
mod tests;
