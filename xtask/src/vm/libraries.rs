//! Dynamically linked programs in the guest — the test binaries, built as on the host so they
//! behave as on the host (a uprobe on libc finds libc mapped), and the host tools tests shell out
//! to — copied with every shared library `ldd` names, at the same paths.
//!
//! iproute2's `ip` and `tc` come from the host because busybox's `ip` is no substitute (it
//! ignores `peer name` when creating a veth pair, for one).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Tools installed into the guest's `/usr/local/sbin` when the host has them.
pub const TOOLS: &[&str] = &["ip", "tc", "bpftool"];

const SEARCH_PATH: &[&str] = &["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// A file to copy: where it is on the host, where it goes in the guest (absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub source: PathBuf,
    pub guest_path: String,
}

/// Files to copy, each guest path once.
#[derive(Debug, Default)]
pub struct CopyList {
    pub copies: Vec<Copy>,
}

impl CopyList {
    fn add(&mut self, source: PathBuf, guest_path: String) {
        if !self.copies.iter().any(|c| c.guest_path == guest_path) {
            self.copies.push(Copy { source, guest_path });
        }
    }

    /// Adds the libraries `program` needs (not the program itself).
    pub fn add_libraries_of(&mut self, program: &Path) -> Result<(), String> {
        for library in libraries_of(program)? {
            self.add(PathBuf::from(&library), library);
        }
        Ok(())
    }

    /// Adds the guest kernel's `/boot/config-<release>` (what `__kconfig` externs read), if the
    /// host has it; returns whether it did.
    pub fn add_kernel_config(&mut self, release: &str) -> bool {
        let path = PathBuf::from(format!("/boot/config-{release}"));
        let found = path.is_file();
        if found {
            self.add(path, format!("/boot/config-{release}"));
        }
        found
    }

    /// Adds the [`TOOLS`] found on the host with their libraries; returns the ones not found.
    pub fn add_tools(&mut self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for tool in TOOLS {
            let found = SEARCH_PATH
                .iter()
                .map(|dir| Path::new(dir).join(tool))
                .find(|p| p.is_file());
            match found {
                Some(path) if self.add_libraries_of(&path).is_ok() => {
                    self.add(path, format!("/usr/local/sbin/{tool}"));
                }
                _ => missing.push(*tool),
            }
        }
        missing
    }
}

/// The shared libraries (and loader) `program` loads, by absolute path.
fn libraries_of(program: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| format!("running ldd on {}: {e}", program.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // A static executable makes ldd fail with "not a dynamic executable": nothing to copy.
    if !out.status.success() {
        return Ok(Vec::new());
    }
    if let Some(line) = text.lines().find(|line| line.contains("not found")) {
        return Err(format!("{}: {}", program.display(), line.trim()));
    }
    Ok(parse_ldd(&text))
}

/// Absolute paths of the libraries (and the loader) in `ldd` output; the vDSO has none.
fn parse_ldd(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = match line.split_once("=>") {
                Some((_, resolved)) => resolved.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_yields_library_paths_and_loader() {
        let output = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                      \tlibbpf.so.1 => /lib/x86_64-linux-gnu/libbpf.so.1 (0x00007f)\n\
                      \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
                      \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            parse_ldd(output),
            [
                "/lib/x86_64-linux-gnu/libbpf.so.1",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
    }

    #[test]
    fn this_test_binary_needs_libc_once() {
        let mut list = CopyList::default();
        let this = std::env::current_exe().unwrap();
        list.add_libraries_of(&this).unwrap();
        list.add_libraries_of(&this).unwrap();
        let libc: Vec<_> = list
            .copies
            .iter()
            .filter(|c| c.guest_path.ends_with("/libc.so.6"))
            .collect();
        assert_eq!(libc.len(), 1, "{:?}", list.copies);
    }
}
