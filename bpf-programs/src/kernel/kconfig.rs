//! Values for `__kconfig` externs: the running kernel's config (`/boot/config-<release>`, else
//! the kernel's own `/proc/config.gz`), and `LINUX_KERNEL_VERSION` from the vDSO's `Linux` ELF
//! note (the kernel's own `LINUX_VERSION_CODE`, so no version string is parsed).

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use bpf_core::elf::ElfFile;

/// Config values by name (`CONFIG_*`, `LINUX_KERNEL_VERSION`), as kconfig text.
pub(crate) fn kernel_config_values() -> HashMap<String, String> {
    let text = kernel_config_text().unwrap_or_else(|| {
        log::debug!("no kernel config in /boot or /proc/config.gz; __kconfig externs stay unset");
        String::new()
    });
    let mut values = bpf_core::obj::parse_kconfig(&text);
    if let Some(code) = linux_version_code() {
        values.insert("LINUX_KERNEL_VERSION".to_owned(), code.to_string());
    }
    values
}

fn kernel_config_text() -> Option<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    std::fs::read_to_string(format!("/boot/config-{}", release.trim()))
        .ok()
        .or_else(|| gunzip_to_string(&std::fs::read("/proc/config.gz").ok()?))
}

fn gunzip_to_string(compressed: &[u8]) -> Option<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// `LINUX_VERSION_CODE` from the `Linux` note of this process's vDSO.
fn linux_version_code() -> Option<u32> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let line = maps.lines().find(|l| l.ends_with("[vdso]"))?;
    let range = line.split_whitespace().next()?;
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let mut image = vec![0u8; usize::try_from(end.checked_sub(start)?).ok()?];
    let mut mem = std::fs::File::open("/proc/self/mem").ok()?;
    mem.seek(SeekFrom::Start(start)).ok()?;
    mem.read_exact(&mut image).ok()?;
    ElfFile::parse(&image).ok()?.linux_version_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_code_from_vdso() {
        let code = linux_version_code().expect("the vDSO carries a Linux note");
        let major = code >> 16;
        assert!((3..100).contains(&major), "{code:#x}");
    }

    #[test]
    fn running_kernel_config_is_found() {
        let values = kernel_config_values();
        if kernel_config_text().is_none() {
            println!(
                "SKIPPED kernel::kconfig::tests: no /boot/config-<release> or /proc/config.gz"
            );
            return;
        }
        assert_eq!(values.get("CONFIG_BPF").map(String::as_str), Some("y"));
    }

    #[test]
    fn gzip_round_trip_and_garbage() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"CONFIG_BPF=y\n").unwrap();
        let compressed = encoder.finish().unwrap();
        assert_eq!(
            gunzip_to_string(&compressed).as_deref(),
            Some("CONFIG_BPF=y\n")
        );
        assert_eq!(gunzip_to_string(b"not gzip"), None);
        assert_eq!(gunzip_to_string(&compressed[..compressed.len() / 2]), None);
    }
}
