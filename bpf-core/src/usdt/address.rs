//! Where a probe site sits in a running process. Kernels without bpf cookies (before 5.15) give a
//! USDT program only the instruction pointer, so `<bpf/usdt.bpf.h>` finds the site's spec through
//! the `__bpf_usdt_ip_to_spec_id` map, keyed by that address: the link-time address in a
//! fixed-address executable, the mapping's address plus the site's file offset in a
//! position-independent binary (a shared library, a PIE executable), which differs per process.

use crate::elf::ElfFile;

use super::notes::UsdtError;

/// Whether the binary is loaded at an address chosen at run time (`ET_DYN`: shared libraries
/// and position-independent executables).
pub fn is_position_independent(elf: &[u8]) -> Result<bool, UsdtError> {
    Ok(ElfFile::parse(elf)?.is_position_independent())
}

/// One line of `/proc/<pid>/maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub executable: bool,
    /// Offset in the mapped file of `start`.
    pub file_offset: u64,
    /// The mapped file's device (major, minor) and inode; (0, 0) and 0 for anonymous memory.
    pub device: (u32, u32),
    pub inode: u64,
}

/// The mappings of a `/proc/<pid>/maps` text (`start-end perms offset major:minor inode path`);
/// lines that do not parse are left out.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let perms = fields.next()?;
            let offset = fields.next()?;
            let (major, minor) = fields.next()?.split_once(':')?;
            let inode = fields.next()?;
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                executable: perms.as_bytes().get(2) == Some(&b'x'),
                file_offset: u64::from_str_radix(offset, 16).ok()?,
                device: (
                    u32::from_str_radix(major, 16).ok()?,
                    u32::from_str_radix(minor, 16).ok()?,
                ),
                inode: inode.parse().ok()?,
            })
        })
        .collect()
}

/// The address at which the instruction at `file_offset` of the file `(device, inode)` runs,
/// given the process's `mappings`; `None` when no executable mapping of that file covers it.
pub fn runtime_address(
    mappings: &[Mapping],
    device: (u32, u32),
    inode: u64,
    file_offset: u64,
) -> Option<u64> {
    mappings
        .iter()
        .filter(|m| m.executable && m.device == device && m.inode == inode)
        .find(|m| file_offset >= m.file_offset && file_offset - m.file_offset < m.end - m.start)
        .map(|m| m.start + (file_offset - m.file_offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0000000-55d0c0010000 r--p 00000000 fd:01 1234   /usr/bin/app
55d0c0010000-55d0c0050000 r-xp 00010000 fd:01 1234   /usr/bin/app
55d0c0050000-55d0c0060000 rw-p 00050000 fd:01 1234   /usr/bin/app
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f1000000000-7f1000100000 r-xp 00028000 08:02 99     /usr/lib/x86_64-linux-gnu/libc.so.6
garbage line
";

    #[test]
    fn maps_lines_parse() {
        let maps = parse_maps(MAPS);
        assert_eq!(maps.len(), 5);
        assert_eq!(
            maps[1],
            Mapping {
                start: 0x55d0_c001_0000,
                end: 0x55d0_c005_0000,
                executable: true,
                file_offset: 0x10000,
                device: (0xfd, 1),
                inode: 1234,
            }
        );
        assert!(!maps[0].executable);
        assert_eq!(maps[3].inode, 0);
    }

    #[test]
    fn sites_resolve_inside_executable_mappings_of_their_file_only() {
        let maps = parse_maps(MAPS);
        // The text mapping starts at file offset 0x10000.
        assert_eq!(
            runtime_address(&maps, (0xfd, 1), 1234, 0x12345),
            Some(0x55d0_c001_2345)
        );
        // Offset 0x100 is in the read-only (not executable) mapping.
        assert_eq!(runtime_address(&maps, (0xfd, 1), 1234, 0x100), None);
        // Past the end of the executable mapping.
        assert_eq!(runtime_address(&maps, (0xfd, 1), 1234, 0x50000), None);
        // Same offset, another file.
        assert_eq!(runtime_address(&maps, (8, 2), 1234, 0x12345), None);
        assert_eq!(
            runtime_address(&maps, (8, 2), 99, 0x28010),
            Some(0x7f10_0000_0010)
        );
    }

    #[test]
    fn elf_kind_is_read() {
        // Test binaries are linked position-independent, as Rust links executables by default.
        let mut this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(is_position_independent(&this).unwrap());
        // e_type (offset 16) ET_EXEC: a fixed-address executable.
        this[16..18].copy_from_slice(&2u16.to_le_bytes());
        assert!(!is_position_independent(&this).unwrap());
        assert!(is_position_independent(b"not an elf").is_err());
    }
}
