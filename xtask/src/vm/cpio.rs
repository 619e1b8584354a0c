//! A writer of `newc` cpio archives, the format the kernel unpacks as an initramfs.
//!
//! Written here rather than shelling out to cpio(1) so that device nodes (`/dev/console`) and
//! ownership need no root and the archive does not depend on the host's file modes.

use std::collections::BTreeSet;

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

#[derive(Debug, Default)]
pub struct Archive {
    bytes: Vec<u8>,
    next_inode: u32,
    dirs: BTreeSet<String>,
}

impl Archive {
    pub fn new() -> Self {
        Self {
            next_inode: 1,
            ..Self::default()
        }
    }

    /// Adds a directory and any missing parents; `path` is relative to the root (`bin/x`).
    pub fn dir(&mut self, path: &str) {
        let path = path.trim_matches('/');
        if path.is_empty() || self.dirs.contains(path) {
            return;
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.dirs.insert(path.to_string());
        self.entry(path, S_IFDIR | 0o755, 2, (0, 0), &[]);
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        let path = self.with_parent(path);
        self.entry(&path, S_IFREG | (mode & 0o7777), 1, (0, 0), data);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        let path = self.with_parent(path);
        self.entry(&path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    pub fn char_device(&mut self, path: &str, mode: u32, major: u32, minor: u32) {
        let path = self.with_parent(path);
        self.entry(&path, S_IFCHR | (mode & 0o7777), 1, (major, minor), &[]);
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, 1, (0, 0), &[]);
        self.bytes
    }

    fn with_parent(&mut self, path: &str) -> String {
        let path = path.trim_matches('/').to_string();
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        path
    }

    fn entry(&mut self, name: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let inode = if name == "TRAILER!!!" {
            0
        } else {
            self.next_inode
        };
        self.next_inode += 1;
        let fields = [
            inode,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime: fixed, so archives are reproducible
            u32::try_from(data.len()).expect("initramfs members are far below 4 GiB"),
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            u32::try_from(name.len() + 1).expect("short names"),
            0, // check
        ];
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes
                .extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_newc() {
        let mut archive = Archive::new();
        archive.file("bin/hello", 0o755, b"hi");
        let bytes = archive.finish();
        // The parent directory comes first.
        assert_eq!(&bytes[..6], b"070701");
        let mode = u32::from_str_radix(std::str::from_utf8(&bytes[14..22]).unwrap(), 16).unwrap();
        assert_eq!(mode, S_IFDIR | 0o755);
        assert_eq!(&bytes[110..114], b"bin\0");
        let file = 112 + 4; // header + "bin\0" padded to a multiple of 4
        assert_eq!(&bytes[file..file + 6], b"070701");
        let size = u32::from_str_radix(
            std::str::from_utf8(&bytes[file + 54..file + 62]).unwrap(),
            16,
        )
        .unwrap();
        assert_eq!(size, 2);
        assert!(bytes.windows(10).any(|w| w == b"TRAILER!!!"));
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn archive_unpacks_with_cpio_when_available() {
        let Ok(probe) = std::process::Command::new("cpio").arg("--version").output() else {
            println!(
                "SKIPPED vm::cpio::archive_unpacks_with_cpio_when_available: no cpio(1) on this host"
            );
            return;
        };
        assert!(probe.status.success());
        let mut archive = Archive::new();
        archive.file("a/b/c.txt", 0o644, b"content");
        archive.symlink("a/link", "b/c.txt");
        let dir = std::env::temp_dir().join(format!("xtask-cpio-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = std::process::Command::new("cpio")
            .args(["-idm", "--quiet", "--no-absolute-filenames"])
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), &archive.finish()).unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(std::fs::read(dir.join("a/link")).unwrap(), b"content");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
