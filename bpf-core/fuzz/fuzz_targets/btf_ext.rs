//! Arbitrary bytes as `[u16 btf_len][BTF][.BTF.ext]`: parse both, then run every CO-RE
//! relocation against the same BTF as target over a block of plausible instructions.
#![no_main]

use bpf_core::btf::core::{CoreTarget, relocate};
use bpf_core::btf::{Btf, BtfExt};
use bpf_sys::generated::bpf_insn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else { return };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (btf_bytes, ext_bytes) = rest.split_at(len);
    let Ok(btf) = Btf::parse(btf_bytes) else { return };
    let Ok(ext) = BtfExt::parse(ext_bytes, &btf) else { return };
    let target = CoreTarget::from_btf(btf.clone());
    // Alternate ALU, LDX and ldimm64 so every patch path is reachable.
    let codes = [0xb7u8, 0x61, 0x18, 0x00, 0x07, 0x79, 0x63, 0x62];
    for sec in ext.core_relos.iter().take(16) {
        let mut insns: Vec<bpf_insn> =
            (0..64).map(|i| bpf_insn { code: codes[i % codes.len()], ..Default::default() }).collect();
        let _ = relocate(&mut insns, &sec.records, &btf, &target);
    }
});
