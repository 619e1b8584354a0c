//! BTF → C: the `vmlinux.h` a BPF program includes, written from BTF given as data, the way
//! `bpftool btf dump file ... format c` writes it (same order, names, padding and attributes).
//!
//! - [`write_c_header`]: a whole BTF (vmlinux, or a module's split BTF with its base) as one
//!   header: include guard, `preserve_access_index` pragma, every type in dependency order, and
//!   `extern` prototypes of the kfuncs.
//! - [`CWriter`]: the same writer type by type — [`CWriter::write_type`] writes one type and
//!   whatever it needs that was not written yet; [`CWriter::write_declaration`] writes a
//!   declaration such as `struct task_struct *task` or `int (*fn)(void *)`.
//!
//! Definitions come in an order C accepts: an embedded struct before its container, a forward
//! declaration (`struct foo;`) where a pointer or a loop allows one. Anonymous structs, unions
//! and enums are written inline; padding members (`long: 64;`) and `__attribute__((packed))`
//! make every member land at its BTF offset; a second type of an already used name is written
//! as `name___2`, as bpftool does (CO-RE ignores the `___` suffix).
//!
//! ```no_run
//! use bpf_core::btf::{Btf, CHeaderOptions, write_c_header};
//!
//! let btf = Btf::parse_owned(std::fs::read("/sys/kernel/btf/vmlinux")?, None)?;
//! let mut header = String::new();
//! write_c_header(&btf, &mut header, &CHeaderOptions::default())?;
//! std::fs::write("vmlinux.h", header)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decl;
mod emit;
mod name_counts;
mod names;
mod order;
mod sort;

use std::collections::HashMap;
use std::fmt::{self, Write};

use super::{Btf, BtfError, BtfKind, TypeKind};
use name_counts::NameCounts;

/// Deepest nesting of type references followed; deeper means malformed BTF.
const MAX_DEPTH: usize = 256;
/// Pointer width of the BPF target, in bits.
const POINTER_BITS: i64 = 64;

/// What went wrong writing C from BTF.
#[derive(Debug, thiserror::Error)]
pub enum CHeaderError {
    #[error("invalid BTF")]
    Btf(#[from] BtfError),
    #[error("writing the header failed")]
    Format(#[from] fmt::Error),
    #[error("BTF type #{id} contains itself without a pointer in between: no C definition exists")]
    TypeCycle { id: u32 },
    #[error("BTF type #{id}: type references nest too deep (malformed BTF?)")]
    TooDeep { id: u32 },
    #[error("BTF type #{id}: a {kind:?} cannot stand in a C declaration")]
    NotADeclaration { id: u32, kind: BtfKind },
    #[error("BTF type #{id}: a gap of {bytes} bytes between members (corrupted size or offset?)")]
    Padding { id: u32, bytes: i64 },
}

/// Options of [`write_c_header`]. The default writes what `bpftool btf dump ... format c`
/// (v7.5) writes, but for two bpftool bugs: bpftool loses the first anonymous enum of its sorted
/// order, and writes type tags flagged as attributes (`address_space(1)` on arena pointers) as
/// `btf_type_tag`s, where this writer writes the attribute, as newer bpftool does.
#[derive(Debug, Clone)]
pub struct CHeaderOptions {
    /// Write types in bpftool's stable order (by kind, then name) rather than by type id, so
    /// the header of a new kernel differs from the old one only where types changed.
    pub sorted: bool,
    /// Append `extern ... __weak __ksym;` prototypes of the kernel's kfuncs (functions with a
    /// `bpf_kfunc` decl tag), guarded by `#ifndef BPF_NO_KFUNC_PROTOTYPES`.
    pub kfunc_prototypes: bool,
    /// Mark kfuncs tagged `bpf_fastcall` with `__bpf_fastcall` (defined when the compiler knows
    /// the attribute), as newer bpftool does.
    pub fastcall: bool,
    /// The include guard macro.
    pub guard: String,
}

impl Default for CHeaderOptions {
    fn default() -> Self {
        CHeaderOptions {
            sorted: true,
            kfunc_prototypes: true,
            fastcall: false,
            guard: "__VMLINUX_H__".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum OrderState {
    #[default]
    NotOrdered,
    Ordering,
    Ordered,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum EmitState {
    #[default]
    NotEmitted,
    Emitting,
    Emitted,
}

#[derive(Debug, Clone, Copy, Default)]
struct TypeState {
    order: OrderState,
    emit: EmitState,
    /// A forward declaration (or, for a typedef, the typedef itself) was written.
    fwd_emitted: bool,
    name_resolved: bool,
    /// Some other type refers to this one.
    referenced: bool,
}

fn indent(lvl: usize) -> &'static str {
    const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t";
    &TABS[..lvl.min(TABS.len())]
}

/// Writes BTF types as C, remembering what it wrote: each type is defined once, and the names
/// given to same-named types stay the same for the writer's life.
#[derive(Debug)]
pub struct CWriter<'b> {
    btf: &'b Btf,
    states: Vec<TypeState>,
    /// Names of types written as `name___N`.
    renamed: HashMap<u32, String>,
    names: NameCounts,
    emit_queue: Vec<u32>,
    decl_stack: Vec<u32>,
    decl_depth: usize,
}

impl<'b> CWriter<'b> {
    /// A writer over every type of `btf` (and of its base, for split BTF).
    pub fn new(btf: &'b Btf) -> Result<CWriter<'b>, CHeaderError> {
        let mut writer = CWriter {
            btf,
            states: vec![TypeState::default(); btf.end_id() as usize],
            renamed: HashMap::new(),
            names: NameCounts::default(),
            emit_queue: Vec::new(),
            decl_stack: Vec::new(),
            decl_depth: 0,
        };
        writer.states[0].order = OrderState::Ordered;
        writer.states[0].emit = EmitState::Emitted;
        writer.mark_referenced()?;
        Ok(writer)
    }

    /// Writes the definition of type `id` preceded by every definition and forward declaration
    /// it needs that this writer has not written yet. Kinds without a C definition (pointers,
    /// functions, variables) write only what they refer to, if anything.
    pub fn write_type(&mut self, id: u32, out: &mut impl Write) -> Result<(), CHeaderError> {
        self.check_id(id)?;
        self.emit_queue.clear();
        self.order_type(id, false, 0)?;
        let queue = std::mem::take(&mut self.emit_queue);
        for &queued in &queue {
            self.emit_type(queued, 0, out, 0)?;
        }
        self.emit_queue = queue;
        Ok(())
    }

    /// Writes a declaration of `name` with type `id` (`name` may be empty for an abstract
    /// declarator): `const char *comm`, `void (*fn)(int)`, `u8 data[16]`. Anonymous types are
    /// written inline; named ones by name (define them with [`CWriter::write_type`]).
    pub fn write_declaration(
        &mut self,
        id: u32,
        name: &str,
        out: &mut impl Write,
    ) -> Result<(), CHeaderError> {
        self.check_id(id)?;
        self.emit_type_decl(id, name, 0, out)
    }

    /// The C name type `id` was written under (`name___2` for a second type of a name), once
    /// the writer has used it; `None` before, and for anonymous types.
    pub fn c_name(&self, id: u32) -> Option<&str> {
        let state = self.states.get(id as usize)?;
        if !state.name_resolved {
            return None;
        }
        match self.renamed.get(&id) {
            Some(name) => Some(name),
            None => self.btf.type_name(id).ok().filter(|n| !n.is_empty()),
        }
    }

    /// The index of `id`'s state, or an error for an id past the BTF's types.
    fn state_index(&self, id: u32) -> Result<usize, CHeaderError> {
        self.check_id(id)?;
        Ok(id as usize)
    }

    fn check_id(&self, id: u32) -> Result<(), CHeaderError> {
        if id >= self.btf.end_id() {
            return Err(BtfError::TypeIdOutOfRange {
                id,
                first: 0,
                end: self.btf.end_id(),
            }
            .into());
        }
        Ok(())
    }

    /// Writes every type as one header, as [`write_c_header`] does; afterwards
    /// [`CWriter::c_name`] tells the name each type was written under.
    pub fn write_header(
        &mut self,
        out: &mut impl Write,
        options: &CHeaderOptions,
    ) -> Result<(), CHeaderError> {
        let guard = &options.guard;
        write!(
            out,
            "#ifndef {guard}\n#define {guard}\n\n\
             #ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
             #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
             #endif\n\n\
             #ifndef __ksym\n#define __ksym __attribute__((section(\".ksyms\")))\n#endif\n\n\
             #ifndef __weak\n#define __weak __attribute__((weak))\n#endif\n\n"
        )?;
        if options.fastcall {
            out.write_str(
                "#ifndef __bpf_fastcall\n#if __has_attribute(bpf_fastcall)\n\
                 #define __bpf_fastcall __attribute__((bpf_fastcall))\n#else\n\
                 #define __bpf_fastcall\n#endif\n#endif\n\n",
            )?;
        }
        if options.sorted {
            // (bpftool skips the first entry of its sorted list, losing one anonymous enum.)
            for id in sort::sorted_ids(self.btf)? {
                self.write_type(id, out)?;
            }
        } else {
            for id in 1..self.btf.end_id() {
                self.write_type(id, out)?;
            }
        }
        if options.kfunc_prototypes {
            self.write_kfuncs(options.fastcall, out)?;
        }
        write!(
            out,
            "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n\
             #endif /* {guard} */\n"
        )?;
        Ok(())
    }

    /// `extern` prototypes of the functions tagged `bpf_kfunc`, by name.
    fn write_kfuncs(&mut self, fastcall: bool, out: &mut impl Write) -> Result<(), CHeaderError> {
        let mut kfuncs = Vec::new();
        let mut fastcalls = Vec::new();
        for id in 1..self.btf.end_id() {
            let t = self.btf.type_by_id(id)?;
            let TypeKind::DeclTag {
                target,
                component_idx: -1,
            } = t.kind
            else {
                continue;
            };
            let func = self.btf.type_by_id(target)?;
            let TypeKind::Func { proto, .. } = func.kind else {
                continue;
            };
            match t.name {
                "bpf_kfunc" => kfuncs.push((func.name, proto, target)),
                "bpf_fastcall" => fastcalls.push(target),
                _ => {}
            }
        }
        kfuncs.sort_by(|a, b| a.0.cmp(b.0));
        out.write_str("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n")?;
        for (name, proto, func) in kfuncs {
            out.write_str("extern ")?;
            if fastcall && fastcalls.contains(&func) {
                out.write_str("__bpf_fastcall ")?;
            }
            self.emit_type_decl(proto, name, 0, out)?;
            out.write_str(" __weak __ksym;\n")?;
        }
        out.write_str("#endif\n\n")?;
        Ok(())
    }
}

/// Writes every type of `btf` as one C header, as `bpftool btf dump file <btf> format c` does.
/// For a module's split BTF the header holds the base's types too, so it stands alone.
pub fn write_c_header(
    btf: &Btf,
    out: &mut impl Write,
    options: &CHeaderOptions,
) -> Result<(), CHeaderError> {
    CWriter::new(btf)?.write_header(out, options)
}

#[cfg(test)]
mod tests;
