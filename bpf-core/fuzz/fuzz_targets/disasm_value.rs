//! Arbitrary bytes as eBPF instructions to print, and as BTF whose every type reads the same
//! bytes as a value.
#![no_main]

use bpf_core::btf::Btf;
use bpf_core::btf::value::{format_value, type_name};
use bpf_core::disasm::{NoSymbols, format_program};
use bpf_core::obj::insn::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = format_program(&decode(data), &NoSymbols);
    if let Ok(btf) = Btf::parse(data) {
        for id in btf.first_id()..btf.end_id().min(btf.first_id() + 256) {
            let _ = type_name(&btf, id);
            if let Ok(v) = format_value(&btf, id, data) {
                let _ = v.to_string();
            }
        }
    }
});
