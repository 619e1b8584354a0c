//! The host's tools (`ip`, `tc`, `bpftool`) for a guest of another architecture: the same
//! Debian packages the host has them from, in the guest's architecture, unpacked (not
//! installed) by the private apt of `fetch-kernel`, with the packages of the libraries they
//! link, found the same way. glibc itself comes from the cross toolchain's sysroot.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::arch::GuestArch;
use super::libraries::{CopyList, TOOLS, find_tool, host_libraries_of};

/// The package that installed `path` on the host (`dpkg -S`), trying the path as given, resolved,
/// and with or without `/usr` (merged /usr: dpkg may have recorded `/sbin/ip` for
/// `/usr/sbin/ip`).
fn host_package_of(path: &Path) -> Option<String> {
    let mut candidates = vec![path.to_path_buf()];
    if let Ok(resolved) = std::fs::canonicalize(path) {
        candidates.push(resolved);
    }
    for candidate in candidates.clone() {
        let text = candidate.to_string_lossy().into_owned();
        match text.strip_prefix("/usr") {
            Some(short) => candidates.push(PathBuf::from(short)),
            None => candidates.push(PathBuf::from(format!("/usr{text}"))),
        }
    }
    candidates.iter().find_map(|candidate| {
        let out = Command::new("dpkg")
            .arg("-S")
            .arg(candidate)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        owner_package(&String::from_utf8_lossy(&out.stdout))
    })
}

/// `libbpf1:amd64: /usr/lib/x86_64-linux-gnu/libbpf.so.1` → `libbpf1`.
fn owner_package(dpkg_output: &str) -> Option<String> {
    let line = dpkg_output.lines().next()?;
    let (packages, _) = line.split_once(": ")?;
    let package = packages.split(',').next()?.trim();
    Some(package.split(':').next()?.to_string()).filter(|p| !p.is_empty())
}

/// The regular file at `relative` in the unpacked tree `root`, following symlinks inside the
/// tree (an absolute target such as `/bin/ip` means `<root>/bin/ip`, never the host's).
fn file_in_root(root: &Path, relative: &Path) -> Option<PathBuf> {
    let mut path = root.join(relative);
    for _ in 0..16 {
        let metadata = std::fs::symlink_metadata(&path).ok()?;
        if metadata.is_file() {
            return Some(path);
        }
        if !metadata.file_type().is_symlink() {
            return None;
        }
        let target = std::fs::read_link(&path).ok()?;
        path = match target.strip_prefix("/") {
            Ok(inside) => root.join(inside),
            Err(_) => path.parent()?.join(target),
        };
    }
    None
}

/// Library folders of an unpacked package root for `arch`.
fn library_dirs(root: &Path, arch: GuestArch) -> Vec<PathBuf> {
    let triple = format!("{}-linux-gnu", arch.name());
    ["lib", "usr/lib"]
        .iter()
        .flat_map(|dir| [root.join(dir).join(&triple), root.join(dir)])
        .filter(|dir| dir.is_dir())
        .collect()
}

/// Adds the host's [`TOOLS`] built for `arch`, with their libraries; returns the tools it could
/// not provide, each with the reason.
pub fn add_tools(list: &mut CopyList, arch: GuestArch) -> Vec<String> {
    let mut missing = Vec::new();
    for tool in TOOLS {
        if let Err(why) = add_tool(list, arch, tool) {
            missing.push(format!("{tool} ({why})"));
        }
    }
    missing
}

fn add_tool(list: &mut CopyList, arch: GuestArch, tool: &str) -> Result<(), String> {
    let host_tool = find_tool(tool).ok_or("not installed here")?;
    let package = host_package_of(&host_tool).ok_or("no package owns it")?;
    let root = crate::fetch_kernel::fetch_package(arch.debian(), &package)?;
    let foreign_tool = [
        host_tool.clone(),
        std::fs::canonicalize(&host_tool).unwrap_or_default(),
    ]
    .iter()
    .flat_map(|path| {
        let relative = path.strip_prefix("/").unwrap_or(path).to_path_buf();
        let short = relative
            .strip_prefix("usr")
            .unwrap_or(&relative)
            .to_path_buf();
        [relative.clone(), short, Path::new("usr").join(&relative)]
    })
    .find_map(|relative| file_in_root(&root, &relative))
    .ok_or_else(|| format!("not in {package}:{}", arch.debian()))?;
    // The libraries the host's copy links come from the same packages in the guest's
    // architecture (glibc from the cross toolchain).
    let mut search = vec![arch.cross_sysroot().join("lib")];
    for library in host_libraries_of(&host_tool)? {
        let Some(package) = host_package_of(Path::new(&library)) else {
            continue;
        };
        if package == "libc6" {
            continue;
        }
        let root = crate::fetch_kernel::fetch_package(arch.debian(), &package)?;
        search.extend(library_dirs(&root, arch));
    }
    list.add_foreign_libraries_of(&foreign_tool, &search)?;
    list.add_copy(foreign_tool, format!("/usr/local/sbin/{tool}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_search_output_names_the_package() {
        assert_eq!(
            owner_package("libbpf1:amd64: /usr/lib/x86_64-linux-gnu/libbpf.so.1\n").as_deref(),
            Some("libbpf1")
        );
        assert_eq!(
            owner_package("iproute2: /sbin/tc\n").as_deref(),
            Some("iproute2")
        );
        assert_eq!(owner_package(""), None);
    }

    #[test]
    fn absolute_symlinks_stay_inside_the_unpacked_tree() {
        let root = std::env::temp_dir().join(format!("xtask-foreign-{}", std::process::id()));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("sbin")).unwrap();
        std::fs::write(root.join("bin/tool"), b"arm64").unwrap();
        std::os::unix::fs::symlink("/bin/tool", root.join("sbin/tool")).unwrap();
        std::os::unix::fs::symlink("../bin/tool", root.join("sbin/relative")).unwrap();
        assert_eq!(
            file_in_root(&root, Path::new("sbin/tool")),
            Some(root.join("bin/tool"))
        );
        assert_eq!(
            file_in_root(&root, Path::new("sbin/relative")),
            Some(root.join("sbin/../bin/tool"))
        );
        assert_eq!(file_in_root(&root, Path::new("sbin/missing")), None);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_host_tools_packages_are_found() {
        // Every machine running this has dpkg and a libc from libc6.
        let libc = host_libraries_of(&std::env::current_exe().unwrap())
            .unwrap()
            .into_iter()
            .find(|l| l.ends_with("/libc.so.6"))
            .unwrap();
        assert_eq!(host_package_of(Path::new(&libc)).as_deref(), Some("libc6"));
    }
}
