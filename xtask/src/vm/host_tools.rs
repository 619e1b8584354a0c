//! Host programs tests shell out to (iproute2's `ip` and `tc`, `bpftool`), copied into the
//! guest with the shared libraries `ldd` names, because busybox's `ip` is not a substitute
//! (it ignores `peer name` when creating a veth pair, for one).

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

/// The tools found on the host and every library they load; tools missing here are listed in
/// the second element.
pub fn collect() -> (Vec<Copy>, Vec<&'static str>) {
    let mut copies: Vec<Copy> = Vec::new();
    let mut missing = Vec::new();
    for tool in TOOLS {
        let Some(path) = SEARCH_PATH
            .iter()
            .map(|dir| Path::new(dir).join(tool))
            .find(|p| p.is_file())
        else {
            missing.push(*tool);
            continue;
        };
        let Ok(out) = Command::new("ldd").arg(&path).output() else {
            missing.push(*tool);
            continue;
        };
        let libraries = parse_ldd(&String::from_utf8_lossy(&out.stdout));
        copies.push(Copy {
            source: path,
            guest_path: format!("/usr/local/sbin/{tool}"),
        });
        for library in libraries {
            if !copies.iter().any(|c| c.guest_path == library) {
                copies.push(Copy {
                    source: PathBuf::from(&library),
                    guest_path: library,
                });
            }
        }
    }
    (copies, missing)
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
                      \tlibgone.so.1 => not found\n\
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
}
