//! Linking a program: reachable functions placed after the entry point, calls fixed up.

use std::collections::{BTreeSet, HashMap};

use bpf_sys::generated::{BPF_PSEUDO_FUNC, bpf_insn};

use super::calls::{call_target, insns_with_relocations};
use super::site::Site;
use super::{Bindings, RelocatedProgram, RelocationError, RelocationErrorKind, core, data};
use crate::obj::insn::LD_IMM64;
use crate::obj::{Function, FunctionId, Object};

struct Linker<'a> {
    object: &'a Object,
    program: &'a str,
    bindings: &'a Bindings,
    insns: Vec<bpf_insn>,
    placed: HashMap<FunctionId, usize>,
    order: Vec<FunctionId>,
    maps: BTreeSet<String>,
    core_poisoned: Vec<(String, crate::btf::core::PoisonedRelo)>,
}

impl<'a> Linker<'a> {
    fn place(&mut self, function: &Function) -> usize {
        let start = self.insns.len();
        self.insns.extend_from_slice(&function.insns);
        self.placed.insert(function.id, start);
        self.order.push(function.id);
        start
    }

    fn relocate_function(&mut self, function: &'a Function) -> Result<(), RelocationError> {
        let base = self.placed[&function.id];
        let poisoned = core::apply(
            self.object,
            self.program,
            function,
            self.bindings,
            &mut self.insns[base..base + function.insns.len()],
        )?;
        self.core_poisoned
            .extend(poisoned.into_iter().map(|p| (function.name.clone(), p)));
        for (index, original, relocation) in insns_with_relocations(function) {
            let symbol = relocation.map_or("", |r| r.symbol.name.as_str());
            let site = Site {
                program: self.program,
                function,
                insn: index,
                symbol,
            };
            if let Some((section_index, target)) =
                call_target(self.object, function, index, original, relocation)
            {
                let callee = usize::try_from(target)
                    .ok()
                    .and_then(|insn_index| {
                        self.object.functions.get(&FunctionId {
                            section_index,
                            insn_index,
                        })
                    })
                    .ok_or_else(|| {
                        site.error(RelocationErrorKind::CallTarget {
                            section_index,
                            insn_index: target,
                        })
                    })?;
                let callee_start = match self.placed.get(&callee.id) {
                    Some(&start) => start,
                    None => self.place(callee),
                };
                let at = base + index;
                let offset = callee_start as i64 - (at as i64 + 1);
                let slot = &mut self.insns[at];
                slot.imm = i32::try_from(offset).map_err(|_| {
                    site.error(RelocationErrorKind::CallTarget {
                        section_index,
                        insn_index: target,
                    })
                })?;
                if slot.code == LD_IMM64 {
                    slot.set_src_reg(BPF_PSEUDO_FUNC as u8);
                    if let Some(next) = self.insns.get_mut(at + 1) {
                        next.imm = 0;
                    }
                }
                continue;
            }
            if let Some(relocation) = relocation {
                let patched = data::relocate_insn(
                    self.object,
                    self.bindings,
                    &site,
                    relocation,
                    &mut self.insns,
                    base,
                )?;
                if let Some(map) = patched {
                    self.maps.insert(map);
                }
            }
        }
        Ok(())
    }
}

pub(super) fn link_program(
    object: &Object,
    program_name: &str,
    bindings: &Bindings,
) -> Result<RelocatedProgram, RelocationError> {
    let unknown = || RelocationError {
        program: program_name.to_owned(),
        function: program_name.to_owned(),
        insn: 0,
        symbol: program_name.to_owned(),
        kind: RelocationErrorKind::UnknownProgram,
    };
    let program = object.program(program_name).ok_or_else(unknown)?;
    let entry = object.function(program.function).ok_or_else(unknown)?;
    let mut linker = Linker {
        object,
        program: program_name,
        bindings,
        insns: Vec::new(),
        placed: HashMap::new(),
        order: Vec::new(),
        maps: BTreeSet::new(),
        core_poisoned: Vec::new(),
    };
    linker.place(entry);
    // `order` grows while functions are relocated: each newly called function is appended.
    let mut next = 0;
    while let Some(&id) = linker.order.get(next) {
        let function = &object.functions[&id];
        linker.relocate_function(function)?;
        next += 1;
    }
    let mut func_info = Vec::new();
    let mut line_info = Vec::new();
    let mut functions = Vec::with_capacity(linker.order.len());
    for id in &linker.order {
        let function = &object.functions[id];
        let start = linker.placed[id];
        functions.push((function.name.clone(), start));
        func_info.extend(function.func_info.iter().map(|r| {
            let mut r = *r;
            r.insn_off += start as u32;
            r
        }));
        line_info.extend(function.line_info.iter().map(|r| {
            let mut r = *r;
            r.insn_off += start as u32;
            r
        }));
    }
    Ok(RelocatedProgram {
        name: program_name.to_owned(),
        insns: linker.insns,
        func_info,
        line_info,
        func_info_rec_size: std::mem::size_of::<bpf_sys::generated::bpf_func_info>() as u32,
        line_info_rec_size: std::mem::size_of::<bpf_sys::generated::bpf_line_info>() as u32,
        maps: linker.maps.into_iter().collect(),
        functions,
        core_poisoned: linker.core_poisoned,
    })
}
