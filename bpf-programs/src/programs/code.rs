//! [`ProgramCode`]: a loaded program's instructions as the kernel runs them (translated and
//! JIT-compiled), its functions and the source lines its BTF line info names.

use std::os::fd::{AsFd, BorrowedFd};

use bpf_core::btf::Btf;
use bpf_core::disasm::{
    ListingFunction, ListingLine, ListingOptions, XlatedSymbols, format_listing,
};
use bpf_sys::generated::bpf_insn;
use bpf_sys::info::{ProgCode, prog_code};

use super::{ProgramError, ProgramInfo, info::program_fd_by_id};
use crate::kernel::kallsyms::KernelSymbols;

/// One function of a loaded program (the entry point and each subprogram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramFunction {
    /// The function's name from the program's BTF, else `func_<n>`.
    pub name: String,
    /// Its C prototype from BTF (`int handle(void * ctx)`), when known.
    pub signature: Option<String>,
    /// Index of its first translated instruction.
    pub first_insn: usize,
    /// Kernel address of its machine code (0 when hidden or not JITed).
    pub jited_address: u64,
    /// Length of its machine code in bytes.
    pub jited_len: u32,
}

/// One BTF line-info record: where an instruction came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// Index of the first translated instruction of the line.
    pub insn: usize,
    /// Kernel address of the line's first machine instruction, when JITed.
    pub jited_address: Option<u64>,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The source text clang recorded.
    pub text: String,
}

/// A loaded program's code and debug records.
#[derive(Debug, Clone)]
pub struct ProgramCode {
    info: ProgramInfo,
    code: ProgCode,
    btf: Option<Btf>,
}

impl ProgramCode {
    /// Reads the code of the program with kernel id `id`.
    pub fn from_id(id: u32) -> Result<ProgramCode, ProgramError> {
        let fd = program_fd_by_id(id)?;
        ProgramCode::from_fd(fd.as_fd())
    }

    /// Reads the code of the program behind `fd`.
    pub fn from_fd(fd: BorrowedFd<'_>) -> Result<ProgramCode, ProgramError> {
        let info = ProgramInfo::from_fd(fd)?;
        let code = prog_code(fd).map_err(ProgramError::syscall("program code"))?;
        // Without BTF the dump has no names or lines, but still has every instruction.
        let btf = info
            .btf_id()
            .and_then(|id| match crate::btf::btf_by_id(id) {
                Ok(btf) => Some(btf),
                Err(e) => {
                    log::debug!("program {}: {e}", info.id());
                    None
                }
            });
        Ok(ProgramCode { info, code, btf })
    }

    /// The program's info.
    pub fn info(&self) -> &ProgramInfo {
        &self.info
    }

    /// The translated instructions (empty without `CAP_SYS_ADMIN`).
    pub fn xlated(&self) -> &[bpf_insn] {
        &self.code.xlated
    }

    /// The machine code of all functions, back to back (empty when not JITed).
    pub fn jited(&self) -> &[u8] {
        &self.code.jited
    }

    /// The program's BTF, when it was loaded with BTF.
    pub fn btf(&self) -> Option<&Btf> {
        self.btf.as_ref()
    }

    /// The program's functions in order.
    pub fn functions(&self) -> Vec<ProgramFunction> {
        let count = self
            .code
            .func_info
            .len()
            .max(self.code.jited_ksyms.len())
            .max(1);
        (0..count)
            .map(|n| {
                let func = self.code.func_info.get(n);
                let name = func
                    .and_then(|f| self.btf.as_ref()?.type_name(f.type_id).ok())
                    .filter(|name| !name.is_empty())
                    .map_or_else(
                        || {
                            if n == 0 {
                                self.info.name().to_owned()
                            } else {
                                format!("func_{n}")
                            }
                        },
                        str::to_owned,
                    );
                let signature = func.and_then(|f| {
                    bpf_core::btf::value::func_signature(self.btf.as_ref()?, f.type_id)
                });
                ProgramFunction {
                    name,
                    signature,
                    first_insn: func.map_or(0, |f| f.insn_off as usize),
                    jited_address: self.code.jited_ksyms.get(n).copied().unwrap_or(0),
                    jited_len: self.code.jited_func_lens.get(n).copied().unwrap_or(0),
                }
            })
            .collect()
    }

    /// The source lines, in instruction order (empty without BTF line info).
    pub fn lines(&self) -> Vec<SourceLine> {
        let Some(btf) = &self.btf else {
            return Vec::new();
        };
        self.code
            .line_info
            .iter()
            .enumerate()
            .map(|(n, record)| SourceLine {
                insn: record.insn_off as usize,
                jited_address: self.code.jited_line_info.get(n).copied(),
                file: btf
                    .string_at(record.file_name_off)
                    .unwrap_or_default()
                    .to_owned(),
                line: record.line_col >> 10,
                column: record.line_col & 0x3ff,
                text: btf
                    .string_at(record.line_off)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    }

    /// The translated instructions as text, byte for byte what `bpftool prog dump xlated`
    /// prints: each function's prototype (with BTF), source lines as `; text` when
    /// `options.source_lines` and the program has line info, calls named from `symbols`
    /// (read with [`KernelSymbols::read`]; helper calls print as addresses without them).
    /// Empty without `CAP_SYS_ADMIN` (the kernel returns no instructions).
    pub fn xlated_listing(&self, symbols: &KernelSymbols, options: ListingOptions) -> String {
        let prototypes: Vec<(usize, String)> = match &self.btf {
            Some(btf) => self
                .code
                .func_info
                .iter()
                .map(|f| {
                    let prototype = bpf_core::btf::value::func_signature(btf, f.type_id);
                    (f.insn_off as usize, prototype.unwrap_or_default())
                })
                .collect(),
            None => Vec::new(),
        };
        let functions: Vec<ListingFunction<'_>> = prototypes
            .iter()
            .map(|(first_insn, prototype)| ListingFunction {
                first_insn: *first_insn,
                prototype,
            })
            .collect();
        let lines = self.lines();
        let lines: Vec<ListingLine<'_>> = lines
            .iter()
            .map(|l| ListingLine {
                insn: l.insn,
                text: &l.text,
                file: &l.file,
                line: l.line,
                column: l.column,
            })
            .collect();
        let symbol_at = |address: u64| symbols.name_at(address).map(str::to_owned);
        let names = XlatedSymbols {
            call_base: symbols.address_of("__bpf_call_base").unwrap_or(0),
            jited_functions: &self.code.jited_ksyms,
            symbol_at: &symbol_at,
        };
        format_listing(&self.code.xlated, &functions, &lines, &names, options)
    }
}
