//! `cargo xtask fetch-kernel [suite]`: unpacks the newest Debian kernel of an apt suite
//! (default `bookworm-backports`) into `target/kernels/<release>/`, without installing it, so
//! `cargo xtask vm-test --kernel target/kernels/<release>/boot/vmlinuz-<release>` can boot it
//! as a further guest kernel.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The image package a `linux-image-amd64` metapackage's `Depends` names.
fn image_package(depends: &str) -> Option<&str> {
    depends
        .split(',')
        .map(|dep| dep.split_whitespace().next().unwrap_or(""))
        .find(|name| name.starts_with("linux-image-") && name != &"linux-image-amd64")
}

/// Downloads and unpacks the kernel; returns the path of its `vmlinuz`.
fn fetch(suite: &str) -> Result<PathBuf, String> {
    let kernels = crate::workspace_root().join("target").join("kernels");
    let downloads = kernels.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| format!("{}: {e}", downloads.display()))?;
    let meta = format!("linux-image-amd64/{suite}");
    run_in(&downloads, "apt-get", &["download", &meta])?;
    let meta_deb = newest_deb(&downloads, "linux-image-amd64_")?;
    let depends = run_in(&downloads, "dpkg-deb", &["-f", &meta_deb, "Depends"])?;
    let package = image_package(&depends)
        .ok_or_else(|| format!("{meta_deb}: no linux-image package in Depends: {depends}"))?
        .to_owned();
    let release = package.trim_start_matches("linux-image-").to_owned();
    let root = kernels.join(&release);
    let vmlinuz = root.join("boot").join(format!("vmlinuz-{release}"));
    if !vmlinuz.is_file() {
        run_in(
            &downloads,
            "apt-get",
            &["download", &format!("{package}/{suite}")],
        )?;
        let deb = newest_deb(&downloads, &format!("{package}_"))?;
        let root_text = root.to_string_lossy().into_owned();
        run_in(&downloads, "dpkg-deb", &["-x", &deb, &root_text])?;
        // Packages ship no modules.dep: depmod writes it, as the package's postinst would.
        run_in(&downloads, "depmod", &["-b", &root_text, &release])?;
    }
    Ok(vmlinuz)
}

fn newest_deb(dir: &Path, prefix: &str) -> Result<String, String> {
    let mut debs: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".deb"))
        .collect();
    debs.sort();
    debs.pop()
        .ok_or_else(|| format!("apt-get download left no {prefix}*.deb"))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let suite = match args {
        [] => "bookworm-backports",
        [suite] => suite.as_str(),
        _ => return Err("usage: cargo xtask fetch-kernel [apt suite]".into()),
    };
    let vmlinuz = fetch(suite)?;
    println!("{}", vmlinuz.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_package_comes_from_the_metapackage_depends() {
        assert_eq!(
            image_package("linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)"),
            Some("linux-image-6.12.95+deb12-amd64")
        );
        assert_eq!(image_package("foo, bar"), None);
    }
}
