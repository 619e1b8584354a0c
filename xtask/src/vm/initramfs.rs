//! Assembles the guest's initramfs: static busybox, the init script, the kernel modules the
//! tests need, the static test binaries and (for tests that read them at run time) the
//! committed BPF objects at the same absolute path as on the host.

use std::path::{Path, PathBuf};

use super::build::{self, TestBinary};
use super::cpio::Archive;
use super::modules::Module;

const INIT: &str = include_str!("../../vm/init");

/// Where static busybox is looked for; Debian's busybox-static installs /bin/busybox.
const BUSYBOX_CANDIDATES: &[&str] = &["/bin/busybox", "/usr/bin/busybox"];

#[derive(Debug)]
pub struct Contents<'a> {
    pub release: &'a str,
    pub binaries: &'a [TestBinary],
    pub modules: &'a [Module],
    /// The directory the guest runs tests in (the `integration-tests` package root).
    pub workdir: &'a Path,
    /// Seconds one test may take in the guest before it is killed.
    pub test_timeout_secs: u64,
}

/// Finds a statically linked busybox on the host.
pub fn find_busybox() -> Result<PathBuf, String> {
    for candidate in BUSYBOX_CANDIDATES {
        let Ok(bytes) = std::fs::read(candidate) else {
            continue;
        };
        if build::has_interpreter(&bytes) == Some(false) {
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
    let objects = contents.workdir.join("bpf").join("obj");
    add_tree(&mut archive, &objects)?;

    let config = format!(
        "MODULES='{}'\nTEST_TIMEOUT={}\nWORKDIR='{}'\n",
        module_paths.join(" "),
        contents.test_timeout_secs,
        contents.workdir.display()
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
