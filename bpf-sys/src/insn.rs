//! Builders for individual eBPF instructions (hand-assembled programs, probes, tests).

use crate::generated::bpf_insn;

/// `BPF_LD`
pub const BPF_LD: u8 = 0x00;
/// `BPF_LDX`
pub const BPF_LDX: u8 = 0x01;
/// `BPF_ST`
pub const BPF_ST: u8 = 0x02;
/// `BPF_STX`
pub const BPF_STX: u8 = 0x03;
/// `BPF_ALU`
pub const BPF_ALU: u8 = 0x04;
/// `BPF_JMP`
pub const BPF_JMP: u8 = 0x05;
/// `BPF_JMP32`
pub const BPF_JMP32: u8 = 0x06;
/// `BPF_ALU64`
pub const BPF_ALU64: u8 = 0x07;
/// `BPF_K` (immediate source)
pub const BPF_K: u8 = 0x00;
/// `BPF_X` (register source)
pub const BPF_X: u8 = 0x08;
/// `BPF_MOV`
pub const BPF_MOV: u8 = 0xb0;
/// `BPF_ADD`
pub const BPF_ADD: u8 = 0x00;
/// `BPF_EXIT`
pub const BPF_EXIT: u8 = 0x90;
/// `BPF_CALL`
pub const BPF_CALL: u8 = 0x80;
/// `BPF_JA`
pub const BPF_JA: u8 = 0x00;
/// `BPF_JEQ`
pub const BPF_JEQ: u8 = 0x10;
/// `BPF_MEM`
pub const BPF_MEM: u8 = 0x60;
/// `BPF_ATOMIC`
pub const BPF_ATOMIC: u8 = 0xc0;
/// `BPF_IMM`
pub const BPF_IMM: u8 = 0x00;
/// `BPF_W`
pub const BPF_W: u8 = 0x00;
/// `BPF_H`
pub const BPF_H: u8 = 0x08;
/// `BPF_B`
pub const BPF_B: u8 = 0x10;
/// `BPF_DW`
pub const BPF_DW: u8 = 0x18;
/// `src_reg` of an `ld_imm64` that loads a map by fd.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `src_reg` of an `ld_imm64` that loads a map value address by fd.
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `src_reg` of a call to a BPF-to-BPF subprogram.
pub const BPF_PSEUDO_CALL: u8 = 1;
/// `src_reg` of a kfunc call.
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

/// One instruction from its parts.
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> bpf_insn {
    let mut insn = bpf_insn {
        code,
        off,
        imm,
        ..Default::default()
    };
    insn.set_dst_reg(dst);
    insn.set_src_reg(src);
    insn
}

/// `dst = imm` (64-bit).
pub fn mov64_imm(dst: u8, imm: i32) -> bpf_insn {
    insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
}

/// `dst = src` (64-bit).
pub fn mov64_reg(dst: u8, src: u8) -> bpf_insn {
    insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
}

/// `dst += imm` (64-bit).
pub fn add64_imm(dst: u8, imm: i32) -> bpf_insn {
    insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm)
}

/// `*(size *)(dst + off) = imm`.
pub fn st_mem(size: u8, dst: u8, off: i16, imm: i32) -> bpf_insn {
    insn(BPF_ST | BPF_MEM | size, dst, 0, off, imm)
}

/// `*(size *)(dst + off) = src`.
pub fn stx_mem(size: u8, dst: u8, src: u8, off: i16) -> bpf_insn {
    insn(BPF_STX | BPF_MEM | size, dst, src, off, 0)
}

/// `lock *(u64 *)(dst + off) += src`.
pub fn atomic_add64(dst: u8, src: u8, off: i16) -> bpf_insn {
    insn(
        BPF_STX | BPF_ATOMIC | BPF_DW,
        dst,
        src,
        off,
        i32::from(BPF_ADD),
    )
}

/// `dst = *(size *)(src + off)`.
pub fn ldx_mem(size: u8, dst: u8, src: u8, off: i16) -> bpf_insn {
    insn(BPF_LDX | BPF_MEM | size, dst, src, off, 0)
}

/// The two halves of `dst = imm64` (`src` selects a pseudo source such as a map fd).
pub fn ld_imm64(dst: u8, src: u8, imm: u64) -> [bpf_insn; 2] {
    [
        insn(BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, imm as u32 as i32),
        insn(0, 0, 0, 0, (imm >> 32) as u32 as i32),
    ]
}

/// `dst = map` for the map with `fd`.
pub fn ld_map_fd(dst: u8, fd: i32) -> [bpf_insn; 2] {
    ld_imm64(dst, BPF_PSEUDO_MAP_FD, fd as u32 as u64)
}

/// `if dst == imm goto +off`.
pub fn jeq_imm(dst: u8, imm: i32, off: i16) -> bpf_insn {
    insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
}

/// `goto +off`.
pub fn ja(off: i16) -> bpf_insn {
    insn(BPF_JMP | BPF_JA, 0, 0, off, 0)
}

/// Call helper number `func` (`bpf_func_id::BPF_FUNC_*`).
pub fn call_helper(func: u32) -> bpf_insn {
    insn(BPF_JMP | BPF_CALL, 0, 0, 0, func as i32)
}

/// `return r0`.
pub fn exit() -> bpf_insn {
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_registers_and_opcodes() {
        let i = mov64_reg(1, 10);
        assert_eq!(i.code, 0xbf);
        assert_eq!(i.dst_reg(), 1);
        assert_eq!(i.src_reg(), 10);
        let [lo, hi] = ld_imm64(2, BPF_PSEUDO_MAP_FD, 0x1_0000_0005);
        assert_eq!((lo.code, lo.imm, hi.imm, lo.src_reg()), (0x18, 5, 1, 1));
        assert_eq!(exit().code, 0x95);
    }
}
