//! A whole program laid out as `bpftool prog dump xlated` prints it: each function's
//! prototype, each BTF source line before its first instruction, `% 4d: ` indices.

use std::fmt::Write;

use bpf_sys::generated::bpf_insn;

use super::{Symbolizer, format_insn};

/// Where a function starts and its C prototype (`int handle(void * ctx)`; empty: no header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingFunction<'a> {
    pub first_insn: usize,
    pub prototype: &'a str,
}

/// One BTF line-info record, in instruction order as the kernel reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingLine<'a> {
    pub insn: usize,
    /// The source text clang recorded.
    pub text: &'a str,
    pub file: &'a str,
    pub line: u32,
    pub column: u32,
}

/// What to interleave with the instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListingOptions {
    /// Source lines as `; text` (bpftool's default when the program has line info).
    pub source_lines: bool,
    /// Append ` [file:F line_num:N line_col:C]` to each source line (bpftool's `linum`).
    pub line_numbers: bool,
}

/// The program as text, one line per instruction ending in `\n`; identical to bpftool's plain
/// dump given the same names. `functions` in instruction order (pass none when the program
/// has no BTF: bpftool prints prototypes only with it).
pub fn format_listing(
    insns: &[bpf_insn],
    functions: &[ListingFunction<'_>],
    lines: &[ListingLine<'_>],
    symbols: &dyn Symbolizer,
    options: ListingOptions,
) -> String {
    let mut out = String::new();
    let mut next_function = functions.iter().peekable();
    let mut lines_seen = 0;
    let mut index = 0;
    while index < insns.len() {
        // Like bpftool, only the next record is compared, so out-of-order records are skipped.
        if let Some(function) = next_function.next_if(|f| f.first_insn == index)
            && !function.prototype.is_empty()
        {
            let _ = writeln!(out, "{}:", function.prototype);
        }
        if options.source_lines
            && let Some(line) = line_at(lines, index, lines_seen)
        {
            let text = line
                .text
                .trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
            if options.line_numbers {
                let _ = writeln!(
                    out,
                    "; {text} [file:{} line_num:{} line_col:{}]",
                    line.file, line.line, line.column
                );
            } else {
                let _ = writeln!(out, "; {text}");
            }
            lines_seen += 1;
        }
        let _ = write!(out, "{index:>4}: ");
        index += format_insn(insns, index, symbols, &mut out);
        out.push('\n');
    }
    out
}

/// The record for instruction `index` as libbpf finds it: the last one at or before `index`
/// among those not yet shown, if it is exactly at `index`.
fn line_at<'l, 'a>(
    lines: &'l [ListingLine<'a>],
    index: usize,
    seen: usize,
) -> Option<&'l ListingLine<'a>> {
    let rest = lines.get(seen..)?;
    let last = rest.iter().take_while(|l| l.insn <= index).last()?;
    (last.insn == index).then_some(last)
}
