//! Arbitrary bytes as a binary with USDT notes, and as an argument spec string: parse both, and
//! lay the arguments out against the BTF of the spec-map layout when the bytes also parse as BTF.
#![no_main]

use bpf_core::btf::Btf;
use bpf_core::usdt::{SpecLayout, parse_args, parse_notes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(notes) = parse_notes(data) {
        for note in notes.iter().take(64) {
            let _ = note.parse_args();
        }
    }
    let text = String::from_utf8_lossy(data);
    let Ok(args) = parse_args(&text) else { return };
    if let Ok(btf) = Btf::parse(data)
        && let Ok(layout) = SpecLayout::from_btf(&btf)
    {
        let _ = layout.encode(&args, 7);
    }
});
