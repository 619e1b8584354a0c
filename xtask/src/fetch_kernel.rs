//! `cargo xtask fetch-kernel [--arch amd64|arm64] <suite>...`: unpacks the newest Debian kernel
//! of the given apt suites into `target/kernels/<release>/`, without installing it, so
//! `cargo xtask vm-test --kernel target/kernels/<release>/boot/vmlinuz-<release>` can boot it.
//!
//! apt runs with a sources list, package lists and cache of its own under
//! `target/kernels/apt/`: the machine's apt configuration (its suites, its architectures) stays
//! as it is, and a suite the machine does not use (bullseye, unstable) or a foreign architecture
//! (arm64) costs nothing outside the work tree. The archive URIs and keyring come from the
//! machine's `/etc/apt/sources.list.d/debian.sources`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

const USAGE: &str = "usage: cargo xtask fetch-kernel [--arch amd64|arm64] <apt suite>... \
                     (`newest` = trixie-backports and unstable)";

/// The suites `newest` stands for: where Debian's newest kernels are.
const NEWEST: &[&str] = &["trixie-backports", "unstable"];

/// Package lists younger than this are not fetched again.
const LISTS_FRESH_FOR: Duration = Duration::from_secs(6 * 3600);

pub(crate) fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<String, String> {
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

/// Where the archive is, as the machine's apt knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Archive {
    uri: String,
    security_uri: String,
    keyring: String,
    /// The machine's own release (`bookworm`), where userland packages of another architecture
    /// come from.
    release: String,
}

impl Default for Archive {
    fn default() -> Self {
        Archive {
            uri: "http://deb.debian.org/debian".into(),
            security_uri: "http://deb.debian.org/debian-security".into(),
            keyring: "/usr/share/keyrings/debian-archive-keyring.gpg".into(),
            release: "stable".into(),
        }
    }
}

impl Archive {
    fn of_this_machine() -> Archive {
        std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources")
            .map(|text| archive_from_sources(&text))
            .unwrap_or_default()
    }
}

/// The URIs and keyring of a deb822 `debian.sources`: the stanza with a `-security` suite gives
/// the security archive, another stanza the main one; what is missing keeps its default.
fn archive_from_sources(text: &str) -> Archive {
    let mut archive = Archive::default();
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim().eq_ignore_ascii_case(name)).then(|| value.trim().to_string())
            })
        };
        let (Some(uris), Some(suites)) = (field("URIs"), field("Suites")) else {
            continue;
        };
        let Some(uri) = uris.split_whitespace().next() else {
            continue;
        };
        let uri = uri.trim_end_matches('/').to_string();
        if suites.split_whitespace().any(|s| s.ends_with("-security")) {
            archive.security_uri = uri;
        } else {
            archive.uri = uri;
            if let Some(release) = suites.split_whitespace().find(|s| !s.contains('-')) {
                archive.release = release.to_string();
            }
        }
        if let Some(keyring) = field("Signed-By").filter(|k| k.starts_with('/')) {
            archive.keyring = keyring;
        }
    }
    archive
}

/// The `sources.list` lines for `suites`: a release (`bullseye`) comes with its `-updates` and
/// `-security` suites, where its point releases and security fixes are; others (`*-backports`,
/// `unstable`) alone.
fn sources_list(archive: &Archive, suites: &[String]) -> String {
    let mut lines = String::new();
    for suite in suites {
        let mut add = |uri: &str, suite: &str| {
            lines.push_str(&format!(
                "deb [signed-by={}] {uri} {suite} main\n",
                archive.keyring
            ));
        };
        add(&archive.uri, suite);
        if !suite.contains('-') && !matches!(suite.as_str(), "unstable" | "sid" | "experimental") {
            add(&archive.uri, &format!("{suite}-updates"));
            add(&archive.security_uri, &format!("{suite}-security"));
        }
    }
    lines
}

/// apt with a state of its own in `root`.
struct PrivateApt {
    root: PathBuf,
    arch: String,
}

impl PrivateApt {
    fn options(&self) -> Vec<String> {
        let root = self.root.display();
        vec![
            format!("-oDir::Etc::SourceList={root}/sources.list"),
            "-oDir::Etc::SourceParts=/dev/null".into(),
            format!("-oDir::State::Lists={root}/lists"),
            format!("-oDir::Cache={root}/cache"),
            "-oDir::State::status=/dev/null".into(),
            format!("-oAPT::Architecture={}", self.arch),
            format!("-oAPT::Architectures={}", self.arch),
            // Only the package lists: no translations, no AppStream metadata.
            "-oAcquire::Languages=none".into(),
            "-oAcquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".into(),
        ]
    }

    fn run(&self, dir: &Path, program: &str, args: &[&str]) -> Result<String, String> {
        let options = self.options();
        let mut all: Vec<&str> = options.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        run_in(dir, program, &all)
    }

    fn update(&self, sources: &str) -> Result<(), String> {
        for dir in ["lists/partial", "cache/archives/partial"] {
            let dir = self.root.join(dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let list = self.root.join("sources.list");
        let stamp = self.root.join("lists/updated");
        let unchanged = std::fs::read_to_string(&list).is_ok_and(|old| old == sources);
        let fresh = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .is_ok_and(|t| {
                SystemTime::now()
                    .duration_since(t)
                    .is_ok_and(|age| age < LISTS_FRESH_FOR)
            });
        if unchanged && fresh {
            return Ok(());
        }
        std::fs::write(&list, sources).map_err(|e| format!("{}: {e}", list.display()))?;
        self.run(&self.root, "apt-get", &["-qq", "update"])?;
        std::fs::write(&stamp, "").map_err(|e| format!("{}: {e}", stamp.display()))
    }

    /// Every version of `package` the suites have (`apt-cache madison`).
    fn versions(&self, package: &str) -> Result<Vec<String>, String> {
        let out = self.run(&self.root, "apt-cache", &["madison", package])?;
        Ok(parse_madison(&out))
    }
}

/// The versions in `apt-cache madison` output (`name | version | source`).
fn parse_madison(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|line| line.split('|').nth(1))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The highest of `versions` by Debian's ordering (`dpkg --compare-versions`).
fn newest_version(versions: &[String]) -> Result<String, String> {
    let mut newest: Option<&String> = None;
    for version in versions {
        let greater = match newest {
            None => true,
            Some(current) => Command::new("dpkg")
                .args(["--compare-versions", version, "gt", current])
                .status()
                .map_err(|e| format!("dpkg --compare-versions: {e}"))?
                .success(),
        };
        if greater {
            newest = Some(version);
        }
    }
    newest
        .cloned()
        .ok_or_else(|| "apt knows no version of it".to_string())
}

/// The image package and its version that a `linux-image-<arch>` metapackage's `Depends` names:
/// `linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)`.
fn image_package<'a>(depends: &'a str, meta: &str) -> Option<(&'a str, Option<&'a str>)> {
    depends.split(',').find_map(|dep| {
        let dep = dep.split('|').next()?.trim();
        let (name, rest) = dep.split_once(' ').unwrap_or((dep, ""));
        if !name.starts_with("linux-image-") || name == meta || name.ends_with("-dbg") {
            return None;
        }
        let version = rest
            .trim()
            .strip_prefix("(=")
            .and_then(|v| v.strip_suffix(')'))
            .map(str::trim);
        Some((name, version))
    })
}

/// Newer packages put everything under `/usr/lib/modules/<release>/` (`vmlinuz`, `config`
/// and the modules): give them the classic places `vm-test` and `depmod -b` look in too,
/// `/lib` as a link to `usr/lib` (merged /usr) and `/boot/{vmlinuz,config}-<release>`.
fn merged_usr_layout(root: &Path, release: &str) -> Result<(), String> {
    let modules = root.join("usr/lib/modules").join(release);
    if !modules.is_dir() || root.join("lib").exists() {
        return Ok(());
    }
    let io = |what: &Path, e: std::io::Error| format!("{}: {e}", what.display());
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).map_err(|e| io(root, e))?;
    let boot = root.join("boot");
    std::fs::create_dir_all(&boot).map_err(|e| io(&boot, e))?;
    for (file, name) in [("vmlinuz", "vmlinuz"), ("config", "config")] {
        let from = modules.join(file);
        if from.is_file() {
            let to = boot.join(format!("{name}-{release}"));
            std::fs::copy(&from, &to).map_err(|e| io(&to, e))?;
        }
    }
    Ok(())
}

/// The packages of one kernel release a package depends on at an exact version:
/// `linux-modules-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1)` for release `7.3.4+deb13-amd64`.
fn release_parts<'a>(depends: &'a str, release: &str) -> Vec<(&'a str, &'a str)> {
    depends
        .split(',')
        .filter_map(|dep| {
            let dep = dep.split('|').next()?.trim();
            let (name, rest) = dep.split_once(' ')?;
            let version = rest.trim().strip_prefix("(=")?.strip_suffix(')')?.trim();
            (name.starts_with("linux-") && name.ends_with(release)).then_some((name, version))
        })
        .collect()
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

/// `1:6.1.192-3` → `6.1.192-3`, as a .deb file name spells it (`%3a` for the epoch colon).
fn deb_version(version: &str) -> String {
    version.replace(':', "%3a")
}

/// Downloads `package` at `version` into `downloads`; returns the .deb's file name.
fn download(
    apt: &PrivateApt,
    downloads: &Path,
    package: &str,
    version: &str,
) -> Result<String, String> {
    let prefix = format!("{package}_{}_", deb_version(version));
    if let Ok(deb) = newest_deb(downloads, &prefix) {
        return Ok(deb);
    }
    apt.run(
        downloads,
        "apt-get",
        &[
            "-qq",
            "download",
            &format!("{package}:{}={version}", apt.arch),
        ],
    )?;
    newest_deb(downloads, &prefix)
}

/// Downloads and unpacks the newest kernel of `suites` for `arch`; returns its `vmlinuz`.
pub fn fetch(arch: &str, suites: &[String]) -> Result<PathBuf, String> {
    let kernels = crate::workspace_root().join("target").join("kernels");
    let downloads = kernels.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| format!("{}: {e}", downloads.display()))?;
    let archive = Archive::of_this_machine();
    let apt = PrivateApt {
        root: kernels
            .join("apt")
            .join(format!("{arch}-{}", suites.join("+"))),
        arch: arch.to_string(),
    };
    apt.update(&sources_list(&archive, suites))?;
    let meta = format!("linux-image-{arch}");
    let version = newest_version(&apt.versions(&meta)?)
        .map_err(|e| format!("{meta} in {}: {e}", suites.join(", ")))?;
    let meta_deb = download(&apt, &downloads, &meta, &version)?;
    let depends = run_in(&downloads, "dpkg-deb", &["-f", &meta_deb, "Depends"])?;
    let (package, image_version) = image_package(&depends, &meta)
        .ok_or_else(|| format!("{meta_deb}: no linux-image package in Depends: {depends}"))?;
    let release = package.trim_start_matches("linux-image-").to_owned();
    let root = kernels.join(&release);
    let vmlinuz = root.join("boot").join(format!("vmlinuz-{release}"));
    if !vmlinuz.is_file() {
        let image_version = match image_version {
            Some(v) => v.to_string(),
            None => newest_version(&apt.versions(package)?)?,
        };
        let root_text = root.to_string_lossy().into_owned();
        // Newer kernels come in parts (linux-binary-, linux-modules-, linux-base-<release>) that
        // the image package depends on at its exact version: unpack them all.
        let mut pending = vec![(package.to_string(), image_version)];
        let mut unpacked: Vec<String> = Vec::new();
        while let Some((name, version)) = pending.pop() {
            if unpacked.contains(&name) {
                continue;
            }
            let deb = download(&apt, &downloads, &name, &version)?;
            run_in(&downloads, "dpkg-deb", &["-x", &deb, &root_text])?;
            let depends = run_in(&downloads, "dpkg-deb", &["-f", &deb, "Depends"])?;
            pending.extend(
                release_parts(&depends, &release)
                    .into_iter()
                    .map(|(n, v)| (n.to_string(), v.to_string())),
            );
            unpacked.push(name);
        }
        merged_usr_layout(&root, &release)?;
        // Packages ship no modules.dep: depmod writes it, as the package's postinst would.
        run_in(&downloads, "depmod", &["-b", &root_text, &release])?;
    }
    if !vmlinuz.is_file() {
        return Err(format!(
            "{}: not in the unpacked packages of {package}",
            vmlinuz.display()
        ));
    }
    Ok(vmlinuz)
}

/// Unpacks the newest `package` of the machine's own release for `arch` (Debian's name:
/// `arm64`) under `target/kernels/packages/`, without installing it; returns the unpacked root.
pub fn fetch_package(arch: &str, package: &str) -> Result<PathBuf, String> {
    let kernels = crate::workspace_root().join("target").join("kernels");
    // Unpacked before: asking apt again costs seconds per package.
    let unpacked = std::fs::read_dir(kernels.join("packages"))
        .ok()
        .and_then(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with(&format!("{package}_")) && n.ends_with(&format!("_{arch}"))
                    })
                })
                .max()
        });
    if let Some(root) = unpacked {
        return Ok(root);
    }
    let downloads = kernels.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| format!("{}: {e}", downloads.display()))?;
    let archive = Archive::of_this_machine();
    let suites = [archive.release.clone()];
    let apt = PrivateApt {
        root: kernels
            .join("apt")
            .join(format!("{arch}-{}", suites.join("+"))),
        arch: arch.to_string(),
    };
    apt.update(&sources_list(&archive, &suites))?;
    let version = newest_version(&apt.versions(package)?)
        .map_err(|e| format!("{package} in {}: {e}", suites.join(", ")))?;
    let root = kernels
        .join("packages")
        .join(format!("{package}_{}_{arch}", deb_version(&version)));
    if !root.is_dir() {
        let deb = download(&apt, &downloads, package, &version)?;
        let staging = PathBuf::from(format!("{}.partial", root.display()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
        let staging_text = staging.to_string_lossy().into_owned();
        run_in(&downloads, "dpkg-deb", &["-x", &deb, &staging_text])?;
        std::fs::rename(&staging, &root).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    Ok(root)
}

fn parse_args(args: &[String]) -> Result<(String, Vec<String>), String> {
    let mut arch = "amd64".to_string();
    let mut suites = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--arch" => arch = args.next().ok_or(USAGE)?.clone(),
            "newest" => suites.extend(NEWEST.iter().map(|s| s.to_string())),
            suite if !suite.starts_with('-') => suites.push(suite.to_string()),
            _ => return Err(USAGE.into()),
        }
    }
    if !matches!(arch.as_str(), "amd64" | "arm64") {
        return Err(format!("--arch {arch}: amd64 or arm64"));
    }
    if suites.is_empty() {
        suites.push("bookworm-backports".into());
    }
    Ok((arch, suites))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let (arch, suites) = parse_args(args)?;
    let vmlinuz = fetch(&arch, &suites)?;
    println!("{}", vmlinuz.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_package_comes_from_the_metapackage_depends() {
        assert_eq!(
            image_package(
                "linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)",
                "linux-image-amd64"
            ),
            Some(("linux-image-6.12.95+deb12-amd64", Some("6.12.95-1~bpo12+1")))
        );
        assert_eq!(
            image_package("linux-image-5.10.0-35-arm64", "linux-image-arm64"),
            Some(("linux-image-5.10.0-35-arm64", None))
        );
        assert_eq!(image_package("foo, bar", "linux-image-amd64"), None);
    }

    #[test]
    fn kernels_in_parts_name_their_parts_at_exact_versions() {
        let depends = "dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, \
                       linux-base-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1), \
                       linux-binary-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1), \
                       linux-modules-7.3.4+deb13-amd64 (= 7.3.4-1~bpo13+1), kmod";
        assert_eq!(
            release_parts(depends, "7.3.4+deb13-amd64"),
            [
                ("linux-base-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
                ("linux-binary-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
                ("linux-modules-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
            ]
        );
        assert!(release_parts("kmod, linux-base (>= 4.3~)", "6.1.0-57-amd64").is_empty());
    }

    #[test]
    fn archive_and_sources_come_from_the_machines_apt() {
        let sources = "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\n\
                       Suites: bookworm bookworm-updates\nComponents: main\n\
                       Signed-By: /usr/share/keyrings/k.gpg\n\n\
                       Types: deb\nURIs: http://mirror.example/debian-security\n\
                       Suites: bookworm-security\nComponents: main\n";
        let archive = archive_from_sources(sources);
        assert_eq!(archive.uri, "http://mirror.example/debian");
        assert_eq!(
            archive.security_uri,
            "http://mirror.example/debian-security"
        );
        assert_eq!(archive.keyring, "/usr/share/keyrings/k.gpg");
        assert_eq!(archive.release, "bookworm");
        let list = sources_list(&archive, &["bullseye".into(), "unstable".into()]);
        assert_eq!(
            list.lines().collect::<Vec<_>>(),
            [
                "deb [signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bullseye main",
                "deb [signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bullseye-updates main",
                "deb [signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian-security bullseye-security main",
                "deb [signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian unstable main",
            ]
        );
        assert_eq!(archive_from_sources(""), Archive::default());
    }

    #[test]
    fn madison_lines_give_versions_and_the_newest_wins() {
        let out = "linux-image-amd64 | 7.3.4-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages\n\
                   linux-image-amd64 |   7.2.13-1 | http://deb.debian.org/debian unstable/main amd64 Packages\n";
        let versions = parse_madison(out);
        assert_eq!(versions, ["7.3.4-1~bpo13+1", "7.2.13-1"]);
        assert_eq!(newest_version(&versions).unwrap(), "7.3.4-1~bpo13+1");
        let versions = ["5.10.223-1".to_string(), "5.10.262-1".to_string()];
        assert_eq!(newest_version(&versions).unwrap(), "5.10.262-1");
        assert!(newest_version(&[]).is_err());
    }

    #[test]
    fn arguments_name_arch_and_suites() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            parse_args(&args("--arch arm64 bookworm")).unwrap(),
            ("arm64".to_string(), vec!["bookworm".to_string()])
        );
        assert_eq!(
            parse_args(&args("newest")).unwrap().1,
            ["trixie-backports", "unstable"]
        );
        assert_eq!(parse_args(&[]).unwrap().1, ["bookworm-backports"]);
        assert!(parse_args(&args("--arch mips bookworm")).is_err());
        assert!(parse_args(&args("--bogus")).is_err());
    }
}
