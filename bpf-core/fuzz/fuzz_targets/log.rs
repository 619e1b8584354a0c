//! Arbitrary bytes as a `.bpf_log` section (after a valid header), then as records of each of
//! its sites; and as a bpf_printk format matched against itself.
#![no_main]

use bpf_core::log::{LogSection, LogSites, PrintkFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut section = b"BPFLOG\x01\x00".to_vec();
    section.extend_from_slice(&16u32.to_ne_bytes());
    section.extend_from_slice(&8u32.to_ne_bytes());
    section.extend_from_slice(data);
    if let Ok(sites) = LogSites::parse(&LogSection { data: section, symbols: vec![] }) {
        let mut out = String::new();
        for site in sites.sites().take(16) {
            let mut record = u64::from(site.offset).to_ne_bytes().to_vec();
            record.extend(data.iter().cycle().take(site.record_len().saturating_sub(8)));
            let _ = sites.format_record(&record, &mut out);
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = PrintkFormat::new(&text).matches(&text);
});
