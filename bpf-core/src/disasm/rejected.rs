//! The instruction a verifier log rejects, and its neighbours as text.

use std::fmt::Write;

use bpf_sys::generated::bpf_insn;

use super::{Symbolizer, format_insn};

/// The index of the instruction the verifier refused, read from its log: the last
/// instruction it printed (`12: (79) r1 = *(u64 *)(r1 +0)` at log level 1 and up), else one
/// named in a structural error (`jump out of range from insn 5 to 9`, `unreachable insn 7`,
/// `invalid insn idx 3`…).
pub fn rejected_insn_index(log: &str) -> Option<usize> {
    let printed = log.lines().rev().find_map(|line| {
        let (index, rest) = line.split_once(": (")?;
        let code = rest.get(..3)?;
        (code.ends_with(')') && code[..2].chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| index.trim().parse().ok())?
    });
    printed.or_else(|| {
        log.lines().rev().find_map(|line| {
            [
                "from insn ",
                "unreachable insn ",
                "invalid insn idx ",
                "insn ",
            ]
            .iter()
            .find_map(|marker| {
                let at = line.find(marker)? + marker.len();
                let digits: String = line[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().ok()
            })
        })
    })
}

/// Instruction `index` with up to `around` instructions before and after, one per line as
/// the verifier prints them (`12: (79) r1 = ...`), the rejected one marked with `>`.
/// Empty when `index` is past the end.
pub fn format_context(
    insns: &[bpf_insn],
    index: usize,
    around: usize,
    symbols: &dyn Symbolizer,
) -> String {
    let mut out = String::new();
    if index >= insns.len() {
        return out;
    }
    // Walk from the start so ld_imm64 second halves are never printed as instructions.
    let mut starts = Vec::new();
    let mut at = 0;
    while at < insns.len() {
        starts.push(at);
        at += if insns[at].code == 0x18 { 2 } else { 1 };
    }
    let position = starts.partition_point(|&s| s <= index).saturating_sub(1);
    let first = position.saturating_sub(around);
    let last = (position + around).min(starts.len() - 1);
    for &start in &starts[first..=last] {
        let marker = if start == starts[position] { '>' } else { ' ' };
        let _ = write!(out, "{marker} {start}: ");
        format_insn(insns, start, symbols, &mut out);
        out.push('\n');
    }
    out
}
