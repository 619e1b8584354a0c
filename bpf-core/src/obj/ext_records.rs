//! `.BTF.ext` records distributed to the functions they describe, with offsets made relative to
//! each function (instruction indexes for func/line info, bytes for CO-RE records).

use std::collections::BTreeMap;

use bpf_sys::generated::{bpf_func_info, bpf_line_info};

use super::code::containing_function;
use super::elf_file::Section;
use super::insn::INSN_SIZE;
use super::{Function, FunctionId, ParseError};
use crate::btf::{BtfExt, CoreRelo, ExtSection};

/// Gives every function its func_info, line_info and CO-RE records from `ext`.
pub(super) fn assign_ext_records(
    functions: &mut BTreeMap<FunctionId, Function>,
    sections: &[Section<'_>],
    ext: &BtfExt,
) -> Result<(), ParseError> {
    let mut placer = Placer {
        functions,
        sections,
    };
    placer.assign(
        &ext.func_info,
        "func_info",
        |r| r.insn_off,
        |f, at, r| {
            f.func_info.push(bpf_func_info {
                insn_off: at,
                type_id: r.type_id,
            });
        },
    )?;
    placer.assign(
        &ext.line_info,
        "line_info",
        |r| r.insn_off,
        |f, at, r| {
            f.line_info.push(bpf_line_info {
                insn_off: at,
                file_name_off: r.file_name_off,
                line_off: r.line_off,
                line_col: r.line_col,
            });
        },
    )?;
    placer.assign(
        &ext.core_relos,
        "CO-RE relocation",
        |r| r.insn_off,
        |f, at, r| {
            f.core_relocations.push(CoreRelo {
                insn_off: at * INSN_SIZE as u32,
                ..*r
            });
        },
    )
}

/// Finds the function a `.BTF.ext` record's byte offset into a code section falls in.
struct Placer<'p, 's> {
    functions: &'p mut BTreeMap<FunctionId, Function>,
    sections: &'p [Section<'s>],
}

impl Placer<'_, '_> {
    fn code_section(&self, name: &str) -> Option<usize> {
        self.sections
            .iter()
            .find(|s| s.name == name && s.is_code())
            .map(|s| s.index)
    }

    /// The function holding byte `insn_off` of code section `name`, and the record's
    /// instruction index relative to it.
    fn locate(
        &mut self,
        name: &str,
        insn_off: u32,
        what: &str,
    ) -> Result<(&mut Function, u32), ParseError> {
        let misplaced = || {
            ParseError::Btf(format!(
                ".BTF.ext {what} at byte {insn_off} of `{name}` is not in a function"
            ))
        };
        let section = self.code_section(name).ok_or_else(misplaced)?;
        if !(insn_off as usize).is_multiple_of(INSN_SIZE) {
            return Err(misplaced());
        }
        let index = insn_off as usize / INSN_SIZE;
        containing_function(self.functions, section, index)
            .map(|f| {
                let relative = (index - f.id.insn_index) as u32;
                (f, relative)
            })
            .ok_or_else(misplaced)
    }

    /// Adds each record of `ext_sections` to its function with `add`; sections that are not
    /// code sections of the object are skipped.
    fn assign<T>(
        &mut self,
        ext_sections: &[ExtSection<T>],
        what: &str,
        insn_off: impl Fn(&T) -> u32,
        add: impl Fn(&mut Function, u32, &T),
    ) -> Result<(), ParseError> {
        for section in ext_sections {
            if self.code_section(&section.name).is_none() {
                log::debug!(
                    ".BTF.ext describes `{}`, which is not a code section",
                    section.name
                );
                continue;
            }
            for record in &section.records {
                let (function, relative) = self.locate(&section.name, insn_off(record), what)?;
                add(function, relative, record);
            }
        }
        Ok(())
    }
}
