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
    /// Adds one file (the first copy of a guest path wins).
    pub fn add_copy(&mut self, source: PathBuf, guest_path: String) {
        self.add(source, guest_path);
    }

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

    /// Adds the libraries and loader a program of another architecture needs, found by name in
    /// `search` (the cross toolchain's `/usr/aarch64-linux-gnu/lib`, unpacked packages): the
    /// loader at the path the program names, the libraries in `/lib`, where that loader looks.
    pub fn add_foreign_libraries_of(
        &mut self,
        program: &Path,
        search: &[PathBuf],
    ) -> Result<(), String> {
        let find = |name: &str| {
            search
                .iter()
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        };
        let mut pending = vec![program.to_path_buf()];
        let mut seen: Vec<String> = Vec::new();
        while let Some(file) = pending.pop() {
            let (interpreter, needed) = dynamic_dependencies(&file)?;
            if let Some(interpreter) = interpreter {
                let name = interpreter.rsplit('/').next().unwrap_or(&interpreter);
                let source = find(name)
                    .ok_or_else(|| format!("{}: no loader {name} to copy", file.display()))?;
                self.add(source, interpreter.clone());
            }
            for name in needed {
                if seen.contains(&name) {
                    continue;
                }
                let source = find(&name).ok_or_else(|| {
                    format!(
                        "{}: needs {name}, which none of {search:?} has",
                        file.display()
                    )
                })?;
                self.add(source.clone(), format!("/lib/{name}"));
                pending.push(source);
                seen.push(name);
            }
        }
        Ok(())
    }

    /// Adds the guest kernel's `config` as its `/boot/config-<release>` (what `__kconfig`
    /// externs read), if it exists; returns whether it did.
    pub fn add_kernel_config(&mut self, config: &Path, release: &str) -> bool {
        let found = config.is_file();
        if found {
            self.add(config.to_path_buf(), format!("/boot/config-{release}"));
        }
        found
    }

    /// Adds the [`TOOLS`] found on the host with their libraries; returns the ones not found.
    pub fn add_tools(&mut self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for tool in TOOLS {
            match find_tool(tool) {
                Some(path) if self.add_libraries_of(&path).is_ok() => {
                    self.add(path, format!("/usr/local/sbin/{tool}"));
                }
                _ => missing.push(*tool),
            }
        }
        missing
    }
}

/// Where the host has `tool`, if it has it.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    SEARCH_PATH
        .iter()
        .map(|dir| Path::new(dir).join(tool))
        .find(|p| p.is_file())
}

/// The shared libraries (and loader) the host program `program` loads, by absolute path.
pub fn host_libraries_of(program: &Path) -> Result<Vec<String>, String> {
    libraries_of(program)
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

/// The interpreter and the `NEEDED` libraries of an ELF file of any architecture, as `readelf`
/// lists them.
fn dynamic_dependencies(file: &Path) -> Result<(Option<String>, Vec<String>), String> {
    let out = Command::new("readelf")
        .args(["--wide", "-d", "-l"])
        .arg(file)
        .output()
        .map_err(|e| format!("running readelf on {}: {e}", file.display()))?;
    if !out.status.success() {
        return Err(format!(
            "readelf {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse_readelf(&String::from_utf8_lossy(&out.stdout)))
}

/// `[Requesting program interpreter: /lib/ld-linux-aarch64.so.1]` and
/// `(NEEDED) Shared library: [libc.so.6]` lines of `readelf -d -l`.
fn parse_readelf(output: &str) -> (Option<String>, Vec<String>) {
    let bracketed = |line: &str, marker: &str| {
        let rest = &line[line.find(marker)? + marker.len()..];
        Some(rest.split(']').next()?.trim().to_string())
    };
    let interpreter = output
        .lines()
        .find_map(|line| bracketed(line, "[Requesting program interpreter:"));
    let needed = output
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| bracketed(line, "Shared library: ["))
        .collect();
    (interpreter, needed)
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
    fn readelf_output_yields_interpreter_and_needed_libraries() {
        let output = "Program Headers:\n  INTERP 0x000238 0x0000000000000238 0x000238 0x00001b R 0x1\n\
                      \x20     [Requesting program interpreter: /lib/ld-linux-aarch64.so.1]\n\
                      Dynamic section at offset 0x2fd0 contains 28 entries:\n\
                      \x20 0x0000000000000001 (NEEDED)             Shared library: [libgcc_s.so.1]\n\
                      \x20 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n\
                      \x20 0x000000000000000c (INIT)               0x1000\n";
        assert_eq!(
            parse_readelf(output),
            (
                Some("/lib/ld-linux-aarch64.so.1".to_string()),
                vec!["libgcc_s.so.1".to_string(), "libc.so.6".to_string()]
            )
        );
        assert_eq!(parse_readelf("not elf"), (None, Vec::new()));
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
