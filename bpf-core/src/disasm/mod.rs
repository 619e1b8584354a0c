//! eBPF instructions as text, exactly as the kernel prints them in the verifier log and as
//! `bpftool prog dump xlated` does: `(bf) r6 = r1`, `(85) call bpf_map_lookup_elem#1`,
//! `(15) if r0 == 0x0 goto pc+3`. What a call or a 64-bit load refers to is named by a
//! [`Symbolizer`] (the kernel's own printer takes the same two callbacks); [`XlatedSymbols`]
//! names them the way bpftool does for a loaded program, [`format_listing`] lays a whole
//! program out as bpftool does, with function headers and BTF source lines.

mod helpers;
mod listing;
mod rejected;

use std::fmt::Write;

use bpf_sys::generated::bpf_insn;

use crate::btf::{Btf, BtfKind, TypeKind};

pub use helpers::HELPER_NAMES;
pub use listing::{ListingFunction, ListingLine, ListingOptions, format_listing};
pub use rejected::{format_context, rejected_insn_index};

/// Names for what instructions refer to by number; every method may decline, and then the
/// kernel's own fallback text is printed.
pub trait Symbolizer {
    /// What follows `call ` for a helper or kfunc call the built-in helper table does not
    /// name, or follows `call pc` for a subprogram call (`+5#bpf_prog_1234_sub`).
    fn call(&self, _insn: &bpf_insn) -> Option<String> {
        None
    }
    /// The text of an `ld_imm64` (`insn` and its second half `next`, `value` both `imm`s
    /// joined): `map[id:7]`, `0x1`.
    fn imm64(&self, _insn: &bpf_insn, _next: &bpf_insn, _value: u64) -> Option<String> {
        None
    }
}

/// A [`Symbolizer`] that knows nothing: the verifier log's text for submitted instructions.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSymbols;

impl Symbolizer for NoSymbols {}

/// Kfunc names read from the kernel's BTF by id, as the verifier log names calls of the
/// instructions it was given (`call bpf_obj_new_impl#63728`); kfuncs of modules (`off` names
/// their BTF) are left to the kernel's fallback text.
#[derive(Debug, Clone, Copy)]
pub struct KfuncNames<'a>(pub &'a Btf);

impl Symbolizer for KfuncNames<'_> {
    fn call(&self, insn: &bpf_insn) -> Option<String> {
        if insn.src_reg() != PSEUDO_KFUNC_CALL || insn.off != 0 {
            return None;
        }
        let name = self.0.type_name(u32::try_from(insn.imm).ok()?).ok()?;
        (!name.is_empty()).then(|| name.to_owned())
    }
}

/// Names as bpftool gives them in a translated dump: helper and kfunc calls by the kernel
/// symbol at `call_base + imm`, subprogram calls by their JIT image's symbol, map loads by
/// map id.
pub struct XlatedSymbols<'a> {
    /// The address of `__bpf_call_base` (0 when kallsyms is hidden).
    pub call_base: u64,
    /// Each function's JIT image address, by subprogram index (empty when not JIT-compiled).
    pub jited_functions: &'a [u64],
    /// The kernel symbol at exactly this address.
    pub symbol_at: &'a dyn Fn(u64) -> Option<String>,
}

impl std::fmt::Debug for XlatedSymbols<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlatedSymbols")
            .field("call_base", &self.call_base)
            .field("jited_functions", &self.jited_functions)
            .finish_non_exhaustive()
    }
}

impl Symbolizer for XlatedSymbols<'_> {
    fn call(&self, insn: &bpf_insn) -> Option<String> {
        let mut address = self.call_base.wrapping_add(i64::from(insn.imm) as u64);
        let pseudo_call = insn.src_reg() == PSEUDO_CALL;
        if pseudo_call
            && let Some(&jited) = usize::try_from(insn.imm as u32)
                .ok()
                .and_then(|i| self.jited_functions.get(i))
        {
            address = jited;
        }
        let symbol = (self.symbol_at)(address);
        Some(match (pseudo_call, symbol) {
            // Interpreted programs show no address.
            (true, _) if self.jited_functions.is_empty() => format!("{:+}", insn.off),
            (true, Some(name)) => format!("{:+}#{name}", insn.off),
            (true, None) => format!("{:+}#{address:#x}", insn.off),
            (false, Some(name)) => name,
            (false, None) => format!("{address:#x}"),
        })
    }

    fn imm64(&self, insn: &bpf_insn, next: &bpf_insn, value: u64) -> Option<String> {
        Some(match insn.src_reg() {
            PSEUDO_MAP_FD => format!("map[id:{}]", insn.imm as u32),
            PSEUDO_MAP_VALUE => format!("map[id:{}][0]+{}", insn.imm as u32, next.imm as u32),
            PSEUDO_FUNC => format!("subprog[{:+}]", insn.imm),
            _ => format!("{value:#x}"),
        })
    }
}

/// Helper names read from a kernel BTF's `enum bpf_func_id` (`BPF_FUNC_map_lookup_elem` →
/// `bpf_map_lookup_elem`), indexed by id.
pub fn helper_names(btf: &Btf) -> Vec<String> {
    let mut names = Vec::new();
    let Some(id) = btf.find_by_name_kind("bpf_func_id", BtfKind::Enum) else {
        return names;
    };
    let Ok(ty) = btf.type_by_id(id) else {
        return names;
    };
    let TypeKind::Enum(values) = ty.kind else {
        return names;
    };
    for value in values.values().flatten() {
        let Some(short) = value.name.strip_prefix("BPF_FUNC_") else {
            continue;
        };
        let Ok(index) = usize::try_from(value.value) else {
            continue;
        };
        if index > 4096 {
            continue;
        }
        if names.len() <= index {
            names.resize(index + 1, String::new());
        }
        names[index] = format!("bpf_{short}");
    }
    names
}

const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_CALL: u8 = 1;
const PSEUDO_KFUNC_CALL: u8 = 2;
const PSEUDO_FUNC: u8 = 4;

// Where the kernel's tables have no entry its printf gets NULL, which glibc and the kernel
// print as "(null)".
const NONE: &str = "(null)";

const ALU_OPS: [&str; 16] = [
    "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian",
    NONE, NONE,
];
const JMP_OPS: [&str; 16] = [
    "jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", NONE,
    NONE,
];

fn size_name(code: u8) -> &'static str {
    ["u32", "u16", "u8", "u64"][usize::from((code >> 3) & 3)]
}

fn signed_size_name(code: u8) -> &'static str {
    ["s32", "s16", "s8", NONE][usize::from((code >> 3) & 3)]
}

/// Formats the instruction at `index` (an `ld_imm64`'s second half is `insns[index + 1]`)
/// without its index and without a newline, e.g. `(bf) r6 = r1`. Returns how many
/// instructions it took (1, or 2 for `ld_imm64`).
pub fn format_insn(
    insns: &[bpf_insn],
    index: usize,
    symbols: &dyn Symbolizer,
    out: &mut String,
) -> usize {
    let Some(insn) = insns.get(index) else {
        return 1;
    };
    let code = insn.code;
    let _ = write!(out, "({code:02x}) ");
    match code & 0x07 {
        class @ (0x04 | 0x07) => format_alu(out, insn, class == 0x07),
        0x03 => format_stx(out, insn),
        0x02 => match code & 0xe0 {
            0x60 => {
                let _ = write!(
                    out,
                    "*({} *)(r{} {:+}) = {}",
                    size_name(code),
                    insn.dst_reg(),
                    insn.off,
                    insn.imm
                );
            }
            0xc0 => out.push_str("nospec"),
            _ => bug(out, "BUG_st_", code),
        },
        0x01 => {
            let size = match code & 0xe0 {
                0x60 => size_name(code),
                0x80 => signed_size_name(code),
                _ => {
                    bug(out, "BUG_ldx_", code);
                    return 1;
                }
            };
            let _ = write!(
                out,
                "r{} = *({size} *)(r{} {:+})",
                insn.dst_reg(),
                insn.src_reg(),
                insn.off
            );
        }
        0x00 => match code & 0xe0 {
            0x20 => {
                let _ = write!(out, "r0 = *({} *)skb[{}]", size_name(code), insn.imm);
            }
            0x40 => {
                let _ = write!(
                    out,
                    "r0 = *({} *)skb[r{} + {}]",
                    size_name(code),
                    insn.src_reg(),
                    insn.imm
                );
            }
            0x00 if code & 0x18 == 0x18 => {
                let next = insns.get(index + 1).copied().unwrap_or_default();
                let value = u64::from(insn.imm as u32) | (u64::from(next.imm as u32) << 32);
                let text = symbols
                    .imm64(insn, &next, value)
                    .unwrap_or_else(|| format!("{value:#x}"));
                let _ = write!(out, "r{} = {text}", insn.dst_reg());
                return 2;
            }
            _ => bug(out, "BUG_ld_", code),
        },
        class => format_jmp(out, insn, class == 0x06, symbols),
    }
    1
}

fn bug(out: &mut String, prefix: &str, code: u8) {
    // The kernel prints these without the `(xx) ` prefix.
    out.truncate(out.len() - 5);
    let _ = write!(out, "{prefix}{code:02x}");
}

fn format_alu(out: &mut String, insn: &bpf_insn, alu64: bool) {
    let code = insn.code;
    let r = if alu64 { 'r' } else { 'w' };
    let (dst, src, off, imm) = (insn.dst_reg(), insn.src_reg(), insn.off, insn.imm);
    let op = code & 0xf0;
    let from_reg = code & 0x08 != 0;
    if op == 0xd0 {
        if alu64 {
            let _ = write!(out, "r{dst} = bswap{imm} r{dst}");
        } else {
            let order = if from_reg { "be" } else { "le" };
            let _ = write!(out, "r{dst} = {order}{imm} r{dst}");
        }
    } else if op == 0x80 {
        let _ = write!(out, "{r}{dst} = -{r}{dst}");
    } else if code == 0xbf && off == 1 {
        let _ = write!(
            out,
            "r{dst} = addr_space_cast(r{src}, {}, {})",
            (imm as u32) >> 16,
            imm as u16
        );
    } else if code == 0xbf && off == -1 {
        let _ = write!(out, "r{dst} = &(void __percpu *)(r{src})");
    } else {
        let name = match op {
            0x30 if off == 1 => "s/=",
            0x90 if off == 1 => "s%=",
            _ => ALU_OPS[usize::from(op >> 4)],
        };
        if from_reg {
            let cast = match (op, off) {
                (0xb0, 8) => "(s8)",
                (0xb0, 16) => "(s16)",
                (0xb0, 32) => "(s32)",
                _ => "",
            };
            let _ = write!(out, "{r}{dst} {name} {cast}{r}{src}");
        } else {
            let _ = write!(out, "{r}{dst} {name} {imm}");
        }
    }
}

fn format_stx(out: &mut String, insn: &bpf_insn) {
    let code = insn.code;
    let (dst, src, off, imm) = (insn.dst_reg(), insn.src_reg(), insn.off, insn.imm);
    let size = size_name(code);
    let bits = if code & 0x18 == 0x18 { "64" } else { "" };
    match code & 0xe0 {
        0x60 => {
            let _ = write!(out, "*({size} *)(r{dst} {off:+}) = r{src}");
        }
        0xc0 => {
            let alu = |op: i32| match op {
                0x00 => Some(("+=", "add")),
                0x40 => Some(("|=", "or")),
                0x50 => Some(("&=", "and")),
                0xa0 => Some(("^=", "xor")),
                _ => None,
            };
            match imm {
                op if alu(op).is_some() => {
                    let symbol = alu(op).map_or("", |(s, _)| s);
                    let _ = write!(out, "lock *({size} *)(r{dst} {off:+}) {symbol} r{src}");
                }
                fetch if fetch & 1 == 1 && alu(fetch & !1).is_some() => {
                    let name = alu(fetch & !1).map_or("", |(_, n)| n);
                    let _ = write!(
                        out,
                        "r{src} = atomic{bits}_fetch_{name}(({size} *)(r{dst} {off:+}), r{src})"
                    );
                }
                0xf1 => {
                    let _ = write!(
                        out,
                        "r0 = atomic{bits}_cmpxchg(({size} *)(r{dst} {off:+}), r0, r{src})"
                    );
                }
                0xe1 => {
                    let _ = write!(
                        out,
                        "r{src} = atomic{bits}_xchg(({size} *)(r{dst} {off:+}), r{src})"
                    );
                }
                0x100 => {
                    let _ = write!(out, "r{dst} = load_acquire(({size} *)(r{src} {off:+}))");
                }
                0x110 => {
                    let _ = write!(out, "store_release(({size} *)(r{dst} {off:+}), r{src})");
                }
                _ => bug(out, "BUG_", code),
            }
        }
        _ => bug(out, "BUG_", code),
    }
}

fn format_jmp(out: &mut String, insn: &bpf_insn, jmp32: bool, symbols: &dyn Symbolizer) {
    let code = insn.code;
    let r = if jmp32 { 'w' } else { 'r' };
    let (dst, src, off, imm) = (insn.dst_reg(), insn.src_reg(), insn.off, insn.imm);
    let op = code & 0xf0;
    if op == 0x80 {
        let name = symbols.call(insn);
        if src == PSEUDO_CALL {
            let target = name.unwrap_or_else(|| format!("{imm:+}"));
            let _ = write!(out, "call pc{target}");
        } else {
            let name = match (src, usize::try_from(imm).ok()) {
                (0, Some(id)) if id < HELPER_NAMES.len() => HELPER_NAMES[id].to_owned(),
                _ => name.unwrap_or_else(|| {
                    if src == PSEUDO_KFUNC_CALL {
                        "kernel-function".to_owned()
                    } else {
                        "unknown".to_owned()
                    }
                }),
            };
            let _ = write!(out, "call {name}#{imm}");
        }
        return;
    }
    match code {
        0x05 => {
            let _ = write!(out, "goto pc{off:+}");
        }
        0x0d => {
            let _ = write!(out, "gotox r{dst}");
        }
        0xe5 if src == 0 => {
            let _ = write!(out, "may_goto pc{off:+}");
        }
        0x06 => {
            let _ = write!(out, "gotol pc{imm:+}");
        }
        0x95 => out.push_str("exit"),
        _ => {
            let name = JMP_OPS[usize::from(op >> 4)];
            if code & 0x08 != 0 {
                let _ = write!(out, "if {r}{dst} {name} {r}{src} goto pc{off:+}");
            } else {
                let _ = write!(out, "if {r}{dst} {name} {:#x} goto pc{off:+}", imm as u32);
            }
        }
    }
}

/// Every instruction as `(index, text)`, stepping over `ld_imm64` second halves.
pub fn format_program(insns: &[bpf_insn], symbols: &dyn Symbolizer) -> Vec<(usize, String)> {
    let mut lines = Vec::with_capacity(insns.len());
    let mut index = 0;
    while index < insns.len() {
        let mut text = String::new();
        let used = format_insn(insns, index, symbols, &mut text);
        lines.push((index, text));
        index += used;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obj::insn::new_insn;

    fn one(insns: &[bpf_insn]) -> String {
        let mut out = String::new();
        format_insn(insns, 0, &NoSymbols, &mut out);
        out
    }

    fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> String {
        one(&[new_insn(code, dst, src, off, imm)])
    }

    #[test]
    fn alu64_and_alu32() {
        assert_eq!(insn(0xb7, 0, 0, 0, 0), "(b7) r0 = 0");
        assert_eq!(insn(0xbf, 6, 1, 0, 0), "(bf) r6 = r1");
        assert_eq!(insn(0xb7, 1, 0, 0, -3), "(b7) r1 = -3");
        assert_eq!(insn(0x07, 2, 0, 0, -4), "(07) r2 += -4");
        assert_eq!(insn(0xbc, 1, 2, 0, 0), "(bc) w1 = w2");
        assert_eq!(insn(0x04, 1, 0, 0, 5), "(04) w1 += 5");
        assert_eq!(insn(0xb4, 1, 0, 0, 5), "(b4) w1 = 5");
        assert_eq!(insn(0x87, 3, 0, 0, 0), "(87) r3 = -r3");
        assert_eq!(insn(0x84, 3, 0, 0, 0), "(84) w3 = -w3");
        assert_eq!(insn(0xc7, 3, 0, 0, 32), "(c7) r3 s>>= 32");
        assert_eq!(insn(0x67, 3, 0, 0, 32), "(67) r3 <<= 32");
        assert_eq!(insn(0xaf, 3, 4, 0, 0), "(af) r3 ^= r4");
        assert_eq!(insn(0x9c, 3, 4, 0, 0), "(9c) w3 %= w4");
    }

    #[test]
    fn signed_division_and_sign_extending_moves() {
        assert_eq!(insn(0x3f, 3, 4, 1, 0), "(3f) r3 s/= r4");
        assert_eq!(insn(0x37, 3, 0, 1, 7), "(37) r3 s/= 7");
        assert_eq!(insn(0x9f, 3, 4, 1, 0), "(9f) r3 s%= r4");
        assert_eq!(insn(0x94, 3, 0, 1, -2), "(94) w3 s%= -2");
        assert_eq!(insn(0x3f, 3, 4, 0, 0), "(3f) r3 /= r4");
        assert_eq!(insn(0xbf, 3, 4, 8, 0), "(bf) r3 = (s8)r4");
        assert_eq!(insn(0xbf, 3, 4, 16, 0), "(bf) r3 = (s16)r4");
        assert_eq!(insn(0xbf, 3, 4, 32, 0), "(bf) r3 = (s32)r4");
        assert_eq!(insn(0xbc, 3, 4, 8, 0), "(bc) w3 = (s8)w4");
    }

    #[test]
    fn byte_swaps_casts_and_per_cpu_addresses() {
        assert_eq!(insn(0xdc, 3, 0, 0, 16), "(dc) r3 = be16 r3");
        assert_eq!(insn(0xd4, 3, 0, 0, 64), "(d4) r3 = le64 r3");
        assert_eq!(insn(0xd7, 3, 0, 0, 32), "(d7) r3 = bswap32 r3");
        assert_eq!(
            insn(0xbf, 1, 2, 1, 1),
            "(bf) r1 = addr_space_cast(r2, 0, 1)"
        );
        assert_eq!(
            insn(0xbf, 1, 2, 1, 1 << 16),
            "(bf) r1 = addr_space_cast(r2, 1, 0)"
        );
        assert_eq!(insn(0xbf, 0, 0, -1, 0), "(bf) r0 = &(void __percpu *)(r0)");
    }

    #[test]
    fn loads_and_stores() {
        assert_eq!(insn(0x7b, 10, 1, -8, 0), "(7b) *(u64 *)(r10 -8) = r1");
        assert_eq!(insn(0x63, 10, 1, 0, 0), "(63) *(u32 *)(r10 +0) = r1");
        assert_eq!(insn(0x62, 10, 0, -4, 7), "(62) *(u32 *)(r10 -4) = 7");
        assert_eq!(insn(0x72, 10, 0, -1, -1), "(72) *(u8 *)(r10 -1) = -1");
        assert_eq!(insn(0x79, 1, 1, 8, 0), "(79) r1 = *(u64 *)(r1 +8)");
        assert_eq!(insn(0x69, 1, 1, 2, 0), "(69) r1 = *(u16 *)(r1 +2)");
        assert_eq!(insn(0x91, 1, 2, 0, 0), "(91) r1 = *(s8 *)(r2 +0)");
        assert_eq!(insn(0x89, 1, 2, 4, 0), "(89) r1 = *(s16 *)(r2 +4)");
        assert_eq!(insn(0x81, 1, 2, -4, 0), "(81) r1 = *(s32 *)(r2 -4)");
        assert_eq!(insn(0x30, 0, 0, 0, 12), "(30) r0 = *(u8 *)skb[12]");
        assert_eq!(insn(0x48, 0, 3, 0, 2), "(48) r0 = *(u16 *)skb[r3 + 2]");
        assert_eq!(insn(0xc2, 0, 0, 0, 0), "(c2) nospec");
        assert_eq!(insn(0x21, 1, 2, 0, 0), "BUG_ldx_21");
        assert_eq!(insn(0x10, 1, 2, 0, 0), "BUG_ld_10");
    }

    #[test]
    fn atomics() {
        assert_eq!(insn(0xdb, 2, 1, 0, 0), "(db) lock *(u64 *)(r2 +0) += r1");
        assert_eq!(insn(0xc3, 2, 1, 8, 0x50), "(c3) lock *(u32 *)(r2 +8) &= r1");
        assert_eq!(
            insn(0xdb, 2, 1, 0, 1),
            "(db) r1 = atomic64_fetch_add((u64 *)(r2 +0), r1)"
        );
        assert_eq!(
            insn(0xc3, 2, 1, -4, 0xa1),
            "(c3) r1 = atomic_fetch_xor((u32 *)(r2 -4), r1)"
        );
        assert_eq!(
            insn(0xdb, 2, 1, 0, 0xf1),
            "(db) r0 = atomic64_cmpxchg((u64 *)(r2 +0), r0, r1)"
        );
        assert_eq!(
            insn(0xc3, 2, 1, 0, 0xe1),
            "(c3) r1 = atomic_xchg((u32 *)(r2 +0), r1)"
        );
        assert_eq!(
            insn(0xdb, 2, 1, 0, 0x100),
            "(db) r2 = load_acquire((u64 *)(r1 +0))"
        );
        assert_eq!(
            insn(0xdb, 2, 1, 0, 0x110),
            "(db) store_release((u64 *)(r2 +0), r1)"
        );
        assert_eq!(insn(0xdb, 2, 1, 0, 0x33), "BUG_db");
    }

    #[test]
    fn ld_imm64_plain_and_through_the_xlated_names() {
        let mut out = String::new();
        let insns = [
            new_insn(0x18, 1, 0, 0, 0x5678),
            new_insn(0, 0, 0, 0, 0x1234),
        ];
        assert_eq!(format_insn(&insns, 0, &NoSymbols, &mut out), 2);
        assert_eq!(out, "(18) r1 = 0x123400005678");
        let no_symbols = |_: u64| None;
        let xlated = XlatedSymbols {
            call_base: 0,
            jited_functions: &[],
            symbol_at: &no_symbols,
        };
        let text = |insns: &[bpf_insn]| {
            let mut out = String::new();
            format_insn(insns, 0, &xlated, &mut out);
            out
        };
        let insns = [new_insn(0x18, 1, 1, 0, 9), new_insn(0, 0, 0, 0, 0)];
        assert_eq!(one(&insns), "(18) r1 = 0x9");
        assert_eq!(text(&insns), "(18) r1 = map[id:9]");
        let insns = [new_insn(0x18, 1, 2, 0, 9), new_insn(0, 0, 0, 0, 16)];
        assert_eq!(text(&insns), "(18) r1 = map[id:9][0]+16");
        let insns = [new_insn(0x18, 2, 4, 0, 5), new_insn(0, 0, 0, 0, 0)];
        assert_eq!(text(&insns), "(18) r2 = subprog[+5]");
    }

    #[test]
    fn jumps_and_may_goto() {
        assert_eq!(insn(0x15, 0, 0, 3, 0), "(15) if r0 == 0x0 goto pc+3");
        assert_eq!(
            insn(0x55, 0, 0, 3, -1),
            "(55) if r0 != 0xffffffff goto pc+3"
        );
        assert_eq!(insn(0x2d, 1, 2, -5, 0), "(2d) if r1 > r2 goto pc-5");
        assert_eq!(insn(0xa6, 1, 0, 1, 3), "(a6) if w1 < 0x3 goto pc+1");
        assert_eq!(insn(0xde, 1, 2, 1, 0), "(de) if w1 s<= w2 goto pc+1");
        assert_eq!(insn(0x45, 1, 0, 1, 8), "(45) if r1 & 0x8 goto pc+1");
        assert_eq!(insn(0x05, 0, 0, 2, 0), "(05) goto pc+2");
        assert_eq!(insn(0x05, 0, 0, -1, 0), "(05) goto pc-1");
        assert_eq!(insn(0x06, 0, 0, 0, 70000), "(06) gotol pc+70000");
        assert_eq!(insn(0xe5, 0, 0, 4, 0), "(e5) may_goto pc+4");
        assert_eq!(insn(0x95, 0, 0, 0, 0), "(95) exit");
    }

    #[test]
    fn calls_to_helpers_kfuncs_and_subprograms() {
        assert_eq!(insn(0x85, 0, 0, 0, 1), "(85) call bpf_map_lookup_elem#1");
        assert_eq!(insn(0x85, 0, 0, 0, 12), "(85) call bpf_tail_call#12");
        assert_eq!(insn(0x85, 0, 0, 0, 999), "(85) call unknown#999");
        assert_eq!(insn(0x85, 0, 2, 0, 4242), "(85) call kernel-function#4242");
        assert_eq!(insn(0x85, 0, 1, 0, 9), "(85) call pc+9");
        assert_eq!(insn(0x85, 0, 1, 0, -3), "(85) call pc-3");

        // A translated program: helper and kfunc calls hold an address relative to
        // __bpf_call_base, subprogram calls the subprogram's index and the offset in `off`.
        let base = 0xffff_ffff_8100_0000_u64;
        let names = |address: u64| match address {
            a if a == base + 0x1000 => Some("__htab_map_lookup_elem".to_owned()),
            a if a == base - 0x40 => Some("bpf_obj_new_impl".to_owned()),
            0xffff_ffff_c000_1000 => Some("bpf_prog_0123456789abcdef_sub".to_owned()),
            _ => None,
        };
        let jited = [0xffff_ffff_c000_0000, 0xffff_ffff_c000_1000];
        let xlated = XlatedSymbols {
            call_base: base,
            jited_functions: &jited,
            symbol_at: &names,
        };
        let text = |insn: bpf_insn| {
            let mut out = String::new();
            format_insn(&[insn], 0, &xlated, &mut out);
            out
        };
        assert_eq!(
            text(new_insn(0x85, 0, 0, 0, 0x1000)),
            "(85) call __htab_map_lookup_elem#4096"
        );
        assert_eq!(
            text(new_insn(0x85, 0, 2, 0, -0x40)),
            "(85) call bpf_obj_new_impl#-64"
        );
        assert_eq!(
            text(new_insn(0x85, 0, 0, 0, 0x2000)),
            "(85) call 0xffffffff81002000#8192"
        );
        assert_eq!(
            text(new_insn(0x85, 0, 0, 0, 12)),
            "(85) call bpf_tail_call#12"
        );
        assert_eq!(
            text(new_insn(0x85, 0, 1, 7, 1)),
            "(85) call pc+7#bpf_prog_0123456789abcdef_sub"
        );
        let interpreted = XlatedSymbols {
            jited_functions: &[],
            ..xlated
        };
        let mut out = String::new();
        format_insn(&[new_insn(0x85, 0, 1, 7, 1)], 0, &interpreted, &mut out);
        assert_eq!(out, "(85) call pc+7");
    }

    #[test]
    fn kfunc_calls_named_from_btf_as_the_verifier_log_does() {
        let object =
            crate::obj::Object::parse(include_bytes!("../../../tests/bpf/obj/log_programs.bpf.o"))
                .unwrap();
        let btf = object.btf.as_ref().unwrap();
        let id = btf.ids_by_name("log_getpid").next().unwrap();
        let mut out = String::new();
        let call = new_insn(0x85, 0, 2, 0, id as i32);
        format_insn(&[call], 0, &KfuncNames(btf), &mut out);
        assert_eq!(out, format!("(85) call log_getpid#{id}"));
        // A module's kfunc (off names its BTF) and a helper are not looked up.
        let mut out = String::new();
        format_insn(
            &[new_insn(0x85, 0, 2, 1, id as i32)],
            0,
            &KfuncNames(btf),
            &mut out,
        );
        assert_eq!(out, format!("(85) call kernel-function#{id}"));
    }

    #[test]
    fn listings_carry_prototypes_and_source_lines_like_bpftool() {
        let insns = [
            new_insn(0xb7, 0, 0, 0, 0),
            new_insn(0x18, 1, 0, 0, 1),
            new_insn(0, 0, 0, 0, 0),
            new_insn(0x95, 0, 0, 0, 0),
        ];
        let functions = [ListingFunction {
            first_insn: 0,
            prototype: "int f(void * ctx)",
        }];
        let lines = [
            ListingLine {
                insn: 0,
                text: "\tint x = 0;",
                file: "/src/f.c",
                line: 3,
                column: 6,
            },
            ListingLine {
                insn: 3,
                text: "return x; ",
                file: "/src/f.c",
                line: 4,
                column: 2,
            },
        ];
        let plain = ListingOptions {
            source_lines: true,
            line_numbers: false,
        };
        assert_eq!(
            format_listing(&insns, &functions, &lines, &NoSymbols, plain),
            "int f(void * ctx):\n; int x = 0;\n   0: (b7) r0 = 0\n   1: (18) r1 = 0x1\n\
             ; return x; \n   3: (95) exit\n"
        );
        let linum = ListingOptions {
            line_numbers: true,
            ..plain
        };
        assert!(
            format_listing(&insns, &[], &lines, &NoSymbols, linum)
                .starts_with("; int x = 0; [file:/src/f.c line_num:3 line_col:6]\n   0: ")
        );
        assert_eq!(
            format_listing(&insns, &[], &lines, &NoSymbols, ListingOptions::default()),
            "   0: (b7) r0 = 0\n   1: (18) r1 = 0x1\n   3: (95) exit\n"
        );
    }

    #[test]
    fn the_rejected_instruction_is_found_in_the_log_and_shown_with_neighbours() {
        let log = "func#0 @0\n0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0_w=0\n\
                   1: (18) r1 = 0xffff888100000000\n3: (79) r2 = *(u64 *)(r1 +0)\n\
                   R1 invalid mem access 'map_ptr'\nprocessed 3 insns (limit 1000000)\n";
        assert_eq!(rejected_insn_index(log), Some(3));
        assert_eq!(
            rejected_insn_index("jump out of range from insn 5 to 9\n"),
            Some(5)
        );
        assert_eq!(rejected_insn_index("unreachable insn 7\n"), Some(7));
        assert_eq!(
            rejected_insn_index("last insn is not an exit or jmp\n"),
            None
        );
        let insns = [
            new_insn(0xb7, 0, 0, 0, 0),
            new_insn(0x18, 1, 0, 0, 1),
            new_insn(0, 0, 0, 0, 0),
            new_insn(0x79, 2, 1, 0, 0),
            new_insn(0x95, 0, 0, 0, 0),
        ];
        assert_eq!(
            format_context(&insns, 3, 1, &NoSymbols),
            "  1: (18) r1 = 0x1\n> 3: (79) r2 = *(u64 *)(r1 +0)\n  4: (95) exit\n"
        );
        assert_eq!(
            format_context(&insns, 0, 1, &NoSymbols),
            "> 0: (b7) r0 = 0\n  1: (18) r1 = 0x1\n"
        );
        assert_eq!(format_context(&insns, 9, 1, &NoSymbols), "");
    }

    #[test]
    fn every_opcode_prints_something_and_never_panics() {
        for code in 0..=255u8 {
            for src in [0u8, 1, 2, 4, 15] {
                for off in [-1i16, 0, 1, 8, 16, 32] {
                    let insns = [new_insn(code, 10, src, off, -1)];
                    let mut out = String::new();
                    format_insn(&insns, 0, &NoSymbols, &mut out);
                    assert!(
                        out.starts_with(&format!("({code:02x})")) || out.starts_with("BUG_"),
                        "{out}"
                    );
                }
            }
        }
        let lines = format_program(&[new_insn(0x18, 1, 0, 0, 1)], &NoSymbols);
        assert_eq!(lines, vec![(0, "(18) r1 = 0x1".to_owned())]);
    }
}
