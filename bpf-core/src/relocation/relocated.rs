//! A relocated program: the instructions and func/line info `BPF_PROG_LOAD` takes.

use bpf_sys::generated::{bpf_func_info, bpf_insn, bpf_line_info};

use crate::btf::core::PoisonedRelo;

/// A program ready for `BPF_PROG_LOAD`.
#[derive(Debug, Clone)]
pub struct RelocatedProgram {
    pub name: String,
    pub insns: Vec<bpf_insn>,
    /// `insn_off` is an instruction index in `insns`.
    pub func_info: Vec<bpf_func_info>,
    pub line_info: Vec<bpf_line_info>,
    pub func_info_rec_size: u32,
    pub line_info_rec_size: u32,
    /// Names of the maps the instructions reference, sorted.
    pub maps: Vec<String>,
    /// The functions linked into the program and the instruction each starts at.
    pub functions: Vec<(String, usize)>,
    /// CO-RE relocations the target could not satisfy, by function (`insn_index` relative to
    /// it); their instructions call an invalid helper, rejected by the verifier if reachable.
    pub core_poisoned: Vec<(String, PoisonedRelo)>,
}

impl RelocatedProgram {
    /// The instructions as the bytes `BPF_PROG_LOAD` takes.
    pub fn insn_bytes(&self) -> Vec<u8> {
        crate::obj::insn::encode(&self.insns)
    }

    /// func_info records as bytes of `func_info_rec_size` each.
    pub fn func_info_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.func_info.len() * 8);
        for record in &self.func_info {
            out.extend_from_slice(&record.insn_off.to_ne_bytes());
            out.extend_from_slice(&record.type_id.to_ne_bytes());
        }
        out
    }

    /// line_info records as bytes of `line_info_rec_size` each.
    pub fn line_info_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.line_info.len() * 16);
        for record in &self.line_info {
            for field in [
                record.insn_off,
                record.file_name_off,
                record.line_off,
                record.line_col,
            ] {
                out.extend_from_slice(&field.to_ne_bytes());
            }
        }
        out
    }
}
