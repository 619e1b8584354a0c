//! eBPF instructions as text, in the style of the kernel's verifier log and bpftool's
//! `prog dump xlated`: `(bf) r6 = r1`, `(85) call bpf_map_lookup_elem#1`, `(15) if r0 == 0x0
//! goto pc+3`. Names of helpers, maps and subprograms come from a [`Symbolizer`].

use std::fmt::Write;

use bpf_sys::generated::bpf_insn;

use crate::btf::{Btf, BtfKind, TypeKind};

/// Names for what instructions refer to by number; every method may decline.
pub trait Symbolizer {
    /// A helper's name (`bpf_map_lookup_elem`) by id.
    fn helper(&self, _id: i32) -> Option<String> {
        None
    }
    /// How to show an `ld_imm64` of a map (`src` is `BPF_PSEUDO_MAP_*`; in the kernel's
    /// translated dump `imm` is the map id).
    fn map(&self, _src: u8, _imm: i32, _offset: i32) -> Option<String> {
        None
    }
    /// The subprogram a `call pc+N` (or `ld_imm64` of a function) reaches at instruction
    /// `target`.
    fn subprogram(&self, _target: usize) -> Option<String> {
        None
    }
    /// A kfunc's name by BTF id.
    fn kfunc(&self, _btf_id: i32) -> Option<String> {
        None
    }
}

/// A [`Symbolizer`] that knows nothing: every reference printed as a number.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSymbols;

impl Symbolizer for NoSymbols {}

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

const ALU_OPS: [&str; 16] = [
    "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian",
    "?", "?",
];
const JMP_OPS: [&str; 16] = [
    "goto", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "?",
    "?",
];

fn size_name(size: u8) -> &'static str {
    match size {
        0x00 => "u32",
        0x08 => "u16",
        0x10 => "u8",
        _ => "u64",
    }
}

fn signed_size_name(size: u8) -> &'static str {
    match size {
        0x00 => "s32",
        0x08 => "s16",
        0x10 => "s8",
        _ => "s64",
    }
}

/// Formats the instruction at `index` (the second half of an `ld_imm64` is `insns[index + 1]`)
/// without its index, e.g. `(bf) r6 = r1`. Returns how many instructions it took (1 or 2).
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
    let class = code & 0x07;
    let dst = insn.dst_reg();
    let src = insn.src_reg();
    let (off, imm) = (insn.off, insn.imm);
    let _ = write!(out, "({code:02x}) ");
    match class {
        0x04 | 0x07 => {
            let r = if class == 0x07 { 'r' } else { 'w' };
            let op = code & 0xf0;
            let from_reg = code & 0x08 != 0;
            match op {
                0x80 => {
                    let _ = write!(out, "{r}{dst} = -{r}{dst}");
                }
                0xd0 => {
                    // BPF_END: to_le/to_be in BPF_ALU (source bit), bswap in BPF_ALU64.
                    let kind = if class == 0x07 {
                        "bswap"
                    } else if from_reg {
                        "be"
                    } else {
                        "le"
                    };
                    let _ = write!(out, "r{dst} = {kind}{imm} r{dst}");
                }
                // BPF_ADDR_PERCPU, an internal instruction of the kernel's own rewrites.
                0xb0 if from_reg && off == -1 && class == 0x07 => {
                    let _ = write!(out, "r{dst} = &(void __percpu *)(r{src})");
                }
                0xb0 if from_reg && off == 1 && class == 0x07 && imm != 0 => {
                    let _ = write!(
                        out,
                        "r{dst} = addr_space_cast(r{src}, {}, {})",
                        imm >> 16,
                        imm & 0xffff
                    );
                }
                0xb0 if from_reg && off != 0 => {
                    let _ = write!(out, "{r}{dst} = (s{off}){r}{src}");
                }
                0xb0 if !from_reg && class == 0x07 => {
                    let _ = write!(out, "r{dst} = {imm}");
                }
                _ => {
                    let mut name = ALU_OPS[usize::from(op >> 4)].to_owned();
                    if matches!(op, 0x30 | 0x90) && off == 1 {
                        name.insert(0, 's');
                    }
                    if from_reg {
                        let _ = write!(out, "{r}{dst} {name} {r}{src}");
                    } else {
                        let _ = write!(out, "{r}{dst} {name} {imm}");
                    }
                }
            }
            1
        }
        0x03 => {
            let size = size_name(code & 0x18);
            match code & 0xe0 {
                0x60 => {
                    let _ = write!(out, "*({size} *)(r{dst} {off:+}) = r{src}");
                }
                0xc0 => format_atomic(out, code & 0x18, dst, src, off, imm),
                _ => {
                    let _ = write!(out, "BUG_stx_{code:02x}");
                }
            }
            1
        }
        0x02 => {
            let size = size_name(code & 0x18);
            let _ = write!(out, "*({size} *)(r{dst} {off:+}) = {imm}");
            1
        }
        0x01 => {
            let mode = code & 0xe0;
            let size = if mode == 0x80 {
                signed_size_name(code & 0x18)
            } else {
                size_name(code & 0x18)
            };
            let _ = write!(out, "r{dst} = *({size} *)(r{src} {off:+})");
            1
        }
        0x00 => {
            let mode = code & 0xe0;
            if code == 0x18 {
                let high = insns.get(index + 1).map_or(0, |i| i.imm);
                let value = u64::from(imm as u32) | (u64::from(high as u32) << 32);
                // BPF_PSEUDO_MAP_FD, _MAP_VALUE, _MAP_IDX, _MAP_IDX_VALUE.
                let shown = match src {
                    1 | 2 | 5 | 6 => symbols.map(src, imm, high),
                    _ => None,
                };
                match (src, shown) {
                    (_, Some(text)) => {
                        let _ = write!(out, "r{dst} = {text}");
                    }
                    (1, None) => {
                        let _ = write!(out, "r{dst} = map[id:{imm}]");
                    }
                    (2, None) => {
                        let _ = write!(out, "r{dst} = map[id:{imm}][0]+{high}");
                    }
                    (4, None) => {
                        let target = (index as i64) + 1 + i64::from(imm) + 1;
                        let name = usize::try_from(target)
                            .ok()
                            .and_then(|t| symbols.subprogram(t));
                        match name {
                            Some(name) => {
                                let _ = write!(out, "r{dst} = {name}");
                            }
                            None => {
                                let _ = write!(out, "r{dst} = func pc{:+}", i64::from(imm) + 1);
                            }
                        }
                    }
                    _ => {
                        let _ = write!(out, "r{dst} = {value:#x}");
                    }
                }
                2
            } else if mode == 0x20 || mode == 0x40 {
                let size = size_name(code & 0x18);
                if mode == 0x20 {
                    let _ = write!(out, "r0 = *({size} *)skb[{imm}]");
                } else {
                    let _ = write!(out, "r0 = *({size} *)skb[r{src} + {imm}]");
                }
                1
            } else {
                let _ = write!(out, "BUG_ld_{code:02x}");
                1
            }
        }
        0x05 | 0x06 => {
            let op = code & 0xf0;
            let r = if class == 0x05 { 'r' } else { 'w' };
            match op {
                0x80 if class == 0x05 => format_call(out, index, src, imm, symbols),
                0x90 if class == 0x05 => out.push_str("exit"),
                0x00 => {
                    if class == 0x06 {
                        let _ = write!(out, "gotol pc{imm:+}");
                    } else {
                        let _ = write!(out, "goto pc{off:+}");
                    }
                }
                _ => {
                    let name = JMP_OPS[usize::from(op >> 4)];
                    if code & 0x08 != 0 {
                        let _ = write!(out, "if {r}{dst} {name} {r}{src} goto pc{off:+}");
                    } else {
                        let _ = write!(out, "if {r}{dst} {name} {:#x} goto pc{off:+}", imm);
                    }
                }
            }
            1
        }
        _ => {
            let _ = write!(out, "BUG_{code:02x}");
            1
        }
    }
}

fn format_call(out: &mut String, index: usize, src: u8, imm: i32, symbols: &dyn Symbolizer) {
    match src {
        1 => {
            let target = index as i64 + 1 + i64::from(imm);
            match usize::try_from(target)
                .ok()
                .and_then(|t| symbols.subprogram(t))
            {
                Some(name) => {
                    let _ = write!(out, "call {name}");
                }
                None => {
                    let _ = write!(out, "call pc{imm:+}");
                }
            }
        }
        2 => match symbols.kfunc(imm) {
            Some(name) => {
                let _ = write!(out, "call {name}#{imm}");
            }
            None => {
                let _ = write!(out, "call kernel-function#{imm}");
            }
        },
        _ => match symbols.helper(imm) {
            Some(name) => {
                let _ = write!(out, "call {name}#{imm}");
            }
            None => {
                let _ = write!(out, "call unknown#{imm}");
            }
        },
    }
}

fn format_atomic(out: &mut String, size: u8, dst: u8, src: u8, off: i16, imm: i32) {
    let bits = if size == 0x18 { "64" } else { "" };
    let ty = size_name(size);
    let fetch = imm & 0x01 != 0;
    let op = imm & !0x01;
    let r = if size == 0x18 { 'r' } else { 'w' };
    let name = match op {
        0x00 => "add",
        0x40 => "or",
        0x50 => "and",
        0xa0 => "xor",
        _ => "",
    };
    match (op, fetch) {
        (0xe0, _) => {
            let _ = write!(
                out,
                "{r}{src} = atomic{bits}_xchg(({ty} *)(r{dst} {off:+}), {r}{src})"
            );
        }
        (0xf0, _) => {
            let _ = write!(
                out,
                "r0 = atomic{bits}_cmpxchg(({ty} *)(r{dst} {off:+}), r0, {r}{src})"
            );
        }
        (0x100, _) => {
            let _ = write!(out, "r{dst} = load_acquire(({ty} *)(r{src} {off:+}))");
        }
        (0x110, _) => {
            let _ = write!(out, "store_release(({ty} *)(r{dst} {off:+}), {r}{src})");
        }
        (_, false) if !name.is_empty() => {
            let symbol = match op {
                0x00 => "+=",
                0x40 => "|=",
                0x50 => "&=",
                _ => "^=",
            };
            let _ = write!(out, "lock *({ty} *)(r{dst} {off:+}) {symbol} {r}{src}");
        }
        (_, true) if !name.is_empty() => {
            let _ = write!(
                out,
                "{r}{src} = atomic{bits}_fetch_{name}(({ty} *)(r{dst} {off:+}), {r}{src})"
            );
        }
        _ => {
            let _ = write!(out, "BUG_atomic_{imm:02x}");
        }
    }
}

/// Every instruction as `index: text`, one per line, bpftool-style (`   0: (bf) r6 = r1`).
pub fn format_program(insns: &[bpf_insn], symbols: &dyn Symbolizer) -> Vec<(usize, String)> {
    let mut lines = Vec::with_capacity(insns.len());
    let mut index = 0;
    while index < insns.len() {
        let mut text = String::new();
        let used = format_insn(insns, index, symbols, &mut text);
        lines.push((index, text));
        index += used.max(1);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obj::insn::new_insn;

    struct Names;
    impl Symbolizer for Names {
        fn helper(&self, id: i32) -> Option<String> {
            (id == 1).then(|| "bpf_map_lookup_elem".to_owned())
        }
        fn subprogram(&self, target: usize) -> Option<String> {
            (target == 5).then(|| "helper".to_owned())
        }
    }

    fn one(insns: &[bpf_insn]) -> String {
        let mut out = String::new();
        format_insn(insns, 0, &Names, &mut out);
        out
    }

    #[test]
    fn alu_and_moves_read_like_the_verifier_log() {
        assert_eq!(one(&[new_insn(0xbf, 6, 1, 0, 0)]), "(bf) r6 = r1");
        assert_eq!(one(&[new_insn(0xb7, 1, 0, 0, -3)]), "(b7) r1 = -3");
        assert_eq!(one(&[new_insn(0x07, 2, 0, 0, -4)]), "(07) r2 += -4");
        assert_eq!(one(&[new_insn(0xbc, 1, 2, 0, 0)]), "(bc) w1 = w2");
        assert_eq!(one(&[new_insn(0x04, 1, 0, 0, 5)]), "(04) w1 += 5");
        assert_eq!(one(&[new_insn(0x87, 3, 0, 0, 0)]), "(87) r3 = -r3");
        assert_eq!(one(&[new_insn(0xdc, 3, 0, 0, 16)]), "(dc) r3 = be16 r3");
        assert_eq!(one(&[new_insn(0xc7, 3, 0, 0, 32)]), "(c7) r3 s>>= 32");
        assert_eq!(one(&[new_insn(0x3f, 3, 4, 1, 0)]), "(3f) r3 s/= r4");
        assert_eq!(one(&[new_insn(0xbf, 3, 4, 8, 0)]), "(bf) r3 = (s8)r4");
        assert_eq!(
            one(&[new_insn(0xbf, 0, 0, -1, 0)]),
            "(bf) r0 = &(void __percpu *)(r0)"
        );
        assert_eq!(
            one(&[new_insn(0xbf, 1, 2, 1, 1)]),
            "(bf) r1 = addr_space_cast(r2, 0, 1)"
        );
    }

    #[test]
    fn memory_atomics_and_imm64() {
        assert_eq!(
            one(&[new_insn(0x7b, 10, 1, -8, 0)]),
            "(7b) *(u64 *)(r10 -8) = r1"
        );
        assert_eq!(
            one(&[new_insn(0x62, 10, 0, -4, 7)]),
            "(62) *(u32 *)(r10 -4) = 7"
        );
        assert_eq!(
            one(&[new_insn(0x79, 1, 1, 8, 0)]),
            "(79) r1 = *(u64 *)(r1 +8)"
        );
        assert_eq!(
            one(&[new_insn(0x91, 1, 2, 0, 0)]),
            "(91) r1 = *(s8 *)(r2 +0)"
        );
        assert_eq!(
            one(&[new_insn(0xdb, 2, 1, 0, 0)]),
            "(db) lock *(u64 *)(r2 +0) += r1"
        );
        assert_eq!(
            one(&[new_insn(0xdb, 2, 1, 0, 1)]),
            "(db) r1 = atomic64_fetch_add((u64 *)(r2 +0), r1)"
        );
        assert_eq!(
            one(&[new_insn(0xdb, 2, 1, 0, 0xf1)]),
            "(db) r0 = atomic64_cmpxchg((u64 *)(r2 +0), r0, r1)"
        );
        let mut out = String::new();
        let insns = [
            new_insn(0x18, 1, 0, 0, 0x5678),
            new_insn(0, 0, 0, 0, 0x1234),
        ];
        assert_eq!(format_insn(&insns, 0, &NoSymbols, &mut out), 2);
        assert_eq!(out, "(18) r1 = 0x123400005678");
        let insns = [new_insn(0x18, 1, 1, 0, 9), new_insn(0, 0, 0, 0, 0)];
        assert_eq!(one(&insns), "(18) r1 = map[id:9]");
        let insns = [new_insn(0x18, 1, 2, 0, 9), new_insn(0, 0, 0, 0, 16)];
        assert_eq!(one(&insns), "(18) r1 = map[id:9][0]+16");
    }

    #[test]
    fn jumps_calls_and_exit() {
        assert_eq!(
            one(&[new_insn(0x15, 0, 0, 3, 0)]),
            "(15) if r0 == 0x0 goto pc+3"
        );
        assert_eq!(
            one(&[new_insn(0x2d, 1, 2, -5, 0)]),
            "(2d) if r1 > r2 goto pc-5"
        );
        assert_eq!(
            one(&[new_insn(0xa6, 1, 0, 1, 3)]),
            "(a6) if w1 < 0x3 goto pc+1"
        );
        assert_eq!(one(&[new_insn(0x05, 0, 0, 2, 0)]), "(05) goto pc+2");
        assert_eq!(
            one(&[new_insn(0x85, 0, 0, 0, 1)]),
            "(85) call bpf_map_lookup_elem#1"
        );
        assert_eq!(one(&[new_insn(0x85, 0, 0, 0, 99)]), "(85) call unknown#99");
        assert_eq!(one(&[new_insn(0x85, 0, 1, 0, 4)]), "(85) call helper");
        assert_eq!(one(&[new_insn(0x85, 0, 1, 0, 9)]), "(85) call pc+9");
        assert_eq!(one(&[new_insn(0x95, 0, 0, 0, 0)]), "(95) exit");
    }

    #[test]
    fn whole_programs_step_over_imm64_halves_and_never_panic() {
        let insns = [
            new_insn(0x18, 1, 0, 0, 1),
            new_insn(0, 0, 0, 0, 0),
            new_insn(0x95, 0, 0, 0, 0),
        ];
        let lines = format_program(&insns, &NoSymbols);
        assert_eq!(
            lines,
            vec![(0, "(18) r1 = 0x1".to_owned()), (2, "(95) exit".to_owned())]
        );
        // A truncated ld_imm64 and every opcode with odd fields still print something.
        for code in 0..=255u8 {
            for src in [0u8, 1, 2, 4, 15] {
                let insns = [new_insn(code, 10, src, -1, -1)];
                let mut out = String::new();
                format_insn(&insns, 0, &NoSymbols, &mut out);
                assert!(out.starts_with(&format!("({code:02x})")), "{out}");
            }
        }
    }
}
