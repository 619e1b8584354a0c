//! Assembles the guest's initramfs: static busybox, the init script, the kernel modules the
//! tests need, the test binaries and host tools with their shared libraries, and (for tests
//! that read them at run time) the committed BPF objects at the same absolute path as on the host.

use std::path::{Path, PathBuf};

use super::arch::GuestArch;
use super::build::TestBinary;
use super::cpio::Archive;
use super::libraries;
use super::modules::Module;

const INIT: &str = include_str!("../../vm/init");

/// Where static busybox is looked for; Debian's busybox-static installs /bin/busybox.
const BUSYBOX_CANDIDATES: &[&str] = &["/bin/busybox", "/usr/bin/busybox"];

#[derive(Debug)]
pub struct Contents<'a> {
    pub release: &'a str,
    pub binaries: &'a [TestBinary],
    pub modules: &'a [Module],
    /// Host tools and the shared libraries of everything dynamically linked.
    pub host_files: &'a [libraries::Copy],
    /// Seconds one test may take in the guest before it is killed.
    pub test_timeout_secs: u64,
}

/// A statically linked busybox for `arch`: the host's, or Debian's `busybox-static` of that
/// architecture, unpacked under `target/kernels/packages/`.
pub fn busybox_for(arch: GuestArch) -> Result<PathBuf, String> {
    if arch.is_host() {
        return find_busybox();
    }
    let root = crate::fetch_kernel::fetch_package(arch.debian(), "busybox-static")?;
    let busybox = root.join("bin").join("busybox");
    if busybox.is_file() {
        Ok(busybox)
    } else {
        Err(format!("{}: no bin/busybox in the package", root.display()))
    }
}

/// Finds a statically linked busybox on the host.
pub fn find_busybox() -> Result<PathBuf, String> {
    for candidate in BUSYBOX_CANDIDATES {
        let Ok(bytes) = std::fs::read(candidate) else {
            continue;
        };
        if has_interpreter(&bytes) == Some(false) {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err(format!(
        "no statically linked busybox at {} (install busybox-static)",
        BUSYBOX_CANDIDATES.join(" or ")
    ))
}

/// Builds the uncompressed newc archive.
pub fn build(contents: &Contents<'_>, busybox: &Path) -> Result<Vec<u8>, String> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut archive = Archive::new();
    for dir in [
        "dev",
        "proc",
        "sys",
        "tmp",
        "run",
        "var",
        "root",
        "etc",
        "lib",
        "vmtest/bin",
    ] {
        archive.dir(dir);
    }
    // The kernel opens /dev/console for init before anything can mount devtmpfs.
    archive.char_device("dev/console", 0o600, 5, 1);
    archive.file("bin/busybox", 0o755, &read(busybox)?);
    archive.symlink("bin/sh", "busybox");
    archive.file("init", 0o755, INIT.as_bytes());

    let mut module_paths = Vec::new();
    for module in contents.modules {
        let bytes = super::modules::read_uncompressed(module)?;
        archive.file(
            &format!("lib/modules/{}/{}", contents.release, module.relative),
            0o644,
            &bytes,
        );
        module_paths.push(module.relative.as_str());
    }
    for binary in contents.binaries {
        archive.file(
            &format!("vmtest/bin/{}", binary.name),
            0o755,
            &read(&binary.path)?,
        );
    }
    // Each binary runs in its package's directory, as under cargo.
    let mut package_dirs: Vec<&Path> = Vec::new();
    for binary in contents.binaries {
        let dir = binary.package_dir.to_string_lossy();
        archive.file(
            &format!("vmtest/dir/{}", binary.name),
            0o644,
            dir.as_bytes(),
        );
        // The host lists (and filters) the tests, sparing the guest two runs of each binary.
        let plan: String = binary
            .tests
            .iter()
            .map(|test| {
                let kind = if binary.ignored.contains(test) {
                    "ignored"
                } else {
                    "run"
                };
                format!("{kind} {test}\n")
            })
            .collect();
        archive.file(
            &format!("vmtest/tests/{}", binary.name),
            0o644,
            plan.as_bytes(),
        );
        if !package_dirs.contains(&binary.package_dir.as_path()) {
            package_dirs.push(&binary.package_dir);
            archive.dir(&dir);
            add_tree(&mut archive, &binary.package_dir.join("bpf").join("obj"))?;
        }
    }
    for copy in contents.host_files {
        archive.file(&copy.guest_path, 0o755, &read(&copy.source)?);
    }

    let config = format!(
        "MODULES='{}'\nTEST_TIMEOUT={}\n",
        module_paths.join(" "),
        contents.test_timeout_secs,
    );
    archive.file("etc/vmtest.conf", 0o644, config.as_bytes());
    Ok(archive.finish())
}

/// Adds the regular files below `dir` at their absolute host path; a missing `dir` adds nothing.
fn add_tree(archive: &mut Archive, dir: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            add_tree(archive, &path)?;
        } else if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            archive.file(&path.to_string_lossy(), 0o644, &bytes);
        }
    }
    Ok(())
}

/// Whether a little-endian ELF64 file has a PT_INTERP program header.
fn has_interpreter(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let phoff = u64::from_le_bytes(elf.get(0x20..0x28)?.try_into().ok()?);
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    let phoff = usize::try_from(phoff).ok()?;
    for index in 0..phnum {
        let at = phoff.checked_add(index.checked_mul(phentsize)?)?;
        let p_type = u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?);
        if p_type == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_is_detected() {
        let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // Test binaries of xtask itself are built the ordinary (dynamic) way.
        assert_eq!(has_interpreter(&this), Some(true));
        assert_eq!(has_interpreter(b"\x7fELF\x02\x01 truncated"), None);
    }
}
