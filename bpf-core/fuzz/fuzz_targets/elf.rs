//! Arbitrary bytes as an ELF binary (symbols, address translation, notes, a named section) and
//! as an ld.so.cache: every reader returns data or an error, never panics.
#![no_main]

use bpf_core::elf::{ElfFile, ld_cache_entries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ld_cache_entries(data).take(1024).count();
    let Ok(file) = ElfFile::parse(data) else { return };
    for symbol in file.defined_symbols().take(256) {
        let _ = file.address_to_file_offset(symbol.address);
        let _ = file.address_to_section_offset(symbol.address);
    }
    let _ = file.section_data(".BTF");
    let _ = file.linux_version_code();
    if let Ok(notes) = file.notes(".note.stapsdt") {
        let _ = notes.take(256).count();
    }
});
