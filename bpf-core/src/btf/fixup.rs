//! Fix-ups of an object's BTF before `BTF_LOAD`: DATASEC sizes and variable offsets from the ELF.

use super::error::BtfError;
use super::kind::BtfKind;
use super::parse::Btf;
use super::types::{FuncLinkage, TypeKind, VarLinkage};

/// What the ELF says about the symbol backing a global variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSymbol {
    /// `st_value`: offset within its section.
    pub offset: u32,
    /// `STV_HIDDEN`/`STV_INTERNAL`: the variable is then marked static, as libbpf does.
    pub hidden: bool,
}

/// Sections whose layout the loader decides itself (externs), not the ELF.
const EXTERN_SECTIONS: &[&str] = &[".kconfig", ".ksyms"];

impl Btf {
    /// Sets each DATASEC's size (clang leaves 0) from `section_size(name)` and, when it was 0,
    /// its variables' offsets from `symbol(var name)`; sorts variables by offset.
    pub fn fixup_datasecs(
        &mut self,
        section_size: impl Fn(&str) -> Option<u32>,
        symbol: impl Fn(&str) -> Option<DataSymbol>,
    ) -> Result<(), BtfError> {
        for id in self.own_ids() {
            if self.kind(id)? != BtfKind::Datasec {
                continue;
            }
            let t = self.type_by_id(id)?;
            let TypeKind::Datasec(sec) = t.kind else {
                continue;
            };
            let section = t.name.to_string();
            if EXTERN_SECTIONS.contains(&section.as_str()) {
                continue;
            }
            let err = |reason: String| BtfError::Datasec {
                section: section.clone(),
                reason,
            };
            let fix_offsets = sec.size == 0;
            let vars: Vec<_> = sec.vars().collect();
            if fix_offsets {
                let size = section_size(&section)
                    .filter(|&s| s > 0)
                    .ok_or_else(|| err("no ELF section with a size".into()))?;
                self.set_size_or_type(id, size)?;
            }
            let mut fixed = Vec::with_capacity(vars.len());
            for v in vars {
                let var = self.type_by_id(v.type_id)?;
                let TypeKind::Var { linkage, .. } = var.kind else {
                    return Err(err(format!(
                        "entry type #{} is {:?}, not a VAR",
                        v.type_id,
                        var.kind.kind()
                    )));
                };
                let name = var.name.to_string();
                let mut v = v;
                if !matches!(linkage, VarLinkage::Static | VarLinkage::Extern) {
                    let sym = symbol(&name)
                        .ok_or_else(|| err(format!("no ELF symbol for variable {name}")))?;
                    if fix_offsets {
                        v.offset = sym.offset;
                    }
                    if sym.hidden {
                        self.set_extra_u32(v.type_id, 0, VarLinkage::Static.raw())?;
                    }
                }
                fixed.push(v);
            }
            fixed.sort_by_key(|v| v.offset);
            for (i, v) in fixed.iter().enumerate() {
                self.set_extra_u32(id, i * 3, v.type_id)?;
                self.set_extra_u32(id, i * 3 + 1, v.offset)?;
                self.set_extra_u32(id, i * 3 + 2, v.size)?;
            }
        }
        Ok(())
    }

    /// Sets a DATASEC's size and its variables' `(type id, offset, size)` outright (externs).
    pub fn set_datasec(
        &mut self,
        id: u32,
        size: u32,
        vars: &[(u32, u32, u32)],
    ) -> Result<(), BtfError> {
        let t = self.type_by_id(id)?;
        let TypeKind::Datasec(sec) = t.kind else {
            return Err(BtfError::UnexpectedKind {
                id,
                expected: "DATASEC",
                found: t.kind.kind(),
            });
        };
        if sec.len() != vars.len() {
            return Err(BtfError::IndexOutOfRange {
                id,
                index: vars.len() as u32,
            });
        }
        self.set_size_or_type(id, size)?;
        for (i, &(type_id, offset, size)) in vars.iter().enumerate() {
            self.set_extra_u32(id, i * 3, type_id)?;
            self.set_extra_u32(id, i * 3 + 1, offset)?;
            self.set_extra_u32(id, i * 3 + 2, size)?;
        }
        Ok(())
    }

    /// Changes the linkage of FUNC `id`.
    pub fn set_func_linkage(&mut self, id: u32, linkage: FuncLinkage) -> Result<(), BtfError> {
        let kind = self.kind(id)?;
        if kind != BtfKind::Func {
            return Err(BtfError::UnexpectedKind {
                id,
                expected: "FUNC",
                found: kind,
            });
        }
        self.set_info(id, BtfKind::Func, false, u32::from(linkage.raw()))
    }

    /// Changes the linkage of VAR `id`.
    pub fn set_var_linkage(&mut self, id: u32, linkage: VarLinkage) -> Result<(), BtfError> {
        let kind = self.kind(id)?;
        if kind != BtfKind::Var {
            return Err(BtfError::UnexpectedKind {
                id,
                expected: "VAR",
                found: kind,
            });
        }
        self.set_extra_u32(id, 0, linkage.raw())
    }
}
