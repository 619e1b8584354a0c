//! Decoding and building `bpf_insn`s (the kernel's 8-byte instruction format, little-endian).

use bpf_sys::generated::bpf_insn;

/// Size in bytes of one instruction.
pub const INSN_SIZE: usize = 8;
/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 16-byte 64-bit immediate load.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
pub const CALL: u8 = 0x85;
/// `BPF_JMP | BPF_EXIT`.
pub const EXIT: u8 = 0x95;

/// Builds an instruction from its fields.
pub fn new_insn(code: u8, dst_reg: u8, src_reg: u8, off: i16, imm: i32) -> bpf_insn {
    bpf_insn {
        code,
        _bitfield_align_1: [],
        _bitfield_1: bpf_insn::new_bitfield_1(dst_reg, src_reg),
        off,
        imm,
    }
}

/// Decodes instructions; trailing bytes that do not form a whole instruction are ignored
/// (callers check the size first).
pub fn decode(bytes: &[u8]) -> Vec<bpf_insn> {
    bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| {
            new_insn(
                c[0],
                c[1] & 0x0f,
                c[1] >> 4,
                i16::from_le_bytes([c[2], c[3]]),
                i32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            )
        })
        .collect()
}

/// Encodes instructions back to their byte form.
pub fn encode(insns: &[bpf_insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * INSN_SIZE);
    for insn in insns {
        out.push(insn.code);
        out.push(insn.dst_reg() | (insn.src_reg() << 4));
        out.extend_from_slice(&insn.off.to_le_bytes());
        out.extend_from_slice(&insn.imm.to_le_bytes());
    }
    out
}

/// Whether `insn` is a bpf-to-bpf call (`call` with `src_reg == BPF_PSEUDO_CALL`).
pub fn is_pseudo_call(insn: &bpf_insn) -> bool {
    insn.code == CALL && u32::from(insn.src_reg()) == bpf_sys::generated::BPF_PSEUDO_CALL
}

/// Whether `insn` loads the address of a function (`ld_imm64` with `BPF_PSEUDO_FUNC`).
pub fn is_pseudo_func(insn: &bpf_insn) -> bool {
    insn.code == LD_IMM64 && u32::from(insn.src_reg()) == bpf_sys::generated::BPF_PSEUDO_FUNC
}

/// Indexes of instructions that are the second half of an `ld_imm64`.
pub fn second_halves(insns: &[bpf_insn]) -> Vec<bool> {
    let mut halves = vec![false; insns.len()];
    let mut i = 0;
    while i < insns.len() {
        if insns[i].code == LD_IMM64 {
            if let Some(h) = halves.get_mut(i + 1) {
                *h = true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    halves
}
