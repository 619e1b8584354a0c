//! `cargo xtask build-kernel`: builds, once per machine, a small x86_64 kernel from Debian's
//! kernel source package (`linux-source-<version>`, 6.1 or newer) with what no Debian kernel has
//! built in: remote-control support, the lirc interface, lirc_mode2 programs and the loopback
//! remote control (`rc-loopback`), so lirc_mode2 programs fire under `cargo xtask vm-test`.
//!
//! The configuration is `allnoconfig` plus `xtask/kernel/lirc-x86_64.config` (booting under qemu,
//! what busybox and the tests use, BPF with its JIT and BTF, the attach points of the program
//! types). The result is cached outside the work tree, in
//! `/var/cache/bpf-programs/kernels/<hash>/boot/vmlinuz-<release>` (`$BPF_KERNEL_CACHE` instead of
//! `/var/cache/bpf-programs/kernels`), keyed by a hash of the configuration, the source package
//! and this recipe, so a second run costs nothing and a changed configuration builds anew.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const USAGE: &str =
    "usage: cargo xtask build-kernel [--source /usr/src/linux-source-<version>.tar.xz]";

/// The options on top of `allnoconfig`.
const CONFIG: &str = include_str!("../kernel/lirc-x86_64.config");

/// Bumped when the build steps change in a way that changes the kernel.
const RECIPE: &str = "bzImage, allnoconfig + fragment, LOCALVERSION=-lirc, v1";

/// What the release is suffixed with, so the kernel is told apart from Debian's.
const LOCALVERSION: &str = "-lirc";

const DEFAULT_CACHE: &str = "/var/cache/bpf-programs/kernels";

/// The oldest source this recipe is written for (its option names and the BTF it makes).
const OLDEST_SOURCE: [u64; 2] = [6, 1];

/// 64-bit FNV-1a: a stable cache key, not a security boundary.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// `CONFIG_X=y` and `CONFIG_X="s"` lines of a fragment, comments and blanks left out.
fn fragment_options(fragment: &str) -> Vec<&str> {
    fragment
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("CONFIG_"))
        .collect()
}

/// The fragment's options that the final `.config` does not have (a dependency unmet, a
/// tool missing: DEBUG_INFO_BTF needs pahole).
fn missing_options<'a>(fragment: &'a str, config: &str) -> Vec<&'a str> {
    fragment_options(fragment)
        .into_iter()
        .filter(|option| !config.lines().any(|line| line.trim() == *option))
        .collect()
}

/// `/usr/src/linux-source-6.1.tar.xz` → `[6, 1]`.
fn source_version(path: &Path) -> Option<Vec<u64>> {
    let name = path.file_name()?.to_str()?;
    let version = name
        .strip_prefix("linux-source-")?
        .strip_suffix(".tar.xz")?;
    version.split('.').map(|n| n.parse().ok()).collect()
}

/// The newest `linux-source-<version>.tar.xz` in /usr/src of at least [`OLDEST_SOURCE`].
fn find_source() -> Result<PathBuf, String> {
    let mut sources: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir("/usr/src")
        .map_err(|e| format!("/usr/src: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|path| Some((source_version(&path)?, path)))
        .filter(|(version, _)| version.as_slice() >= OLDEST_SOURCE.as_slice())
        .collect();
    sources.sort();
    sources.pop().map(|(_, path)| path).ok_or_else(|| {
        "no /usr/src/linux-source-<6.1 or newer>.tar.xz (apt-get install linux-source)".into()
    })
}

fn cache_root() -> PathBuf {
    std::env::var_os("BPF_KERNEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE))
}

fn run(dir: &Path, program: &str, args: &[&str], log: &Path) -> Result<(), String> {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed ({status}); see {}",
            args.join(" "),
            log.display()
        ))
    }
}

/// The kernel's image in the cache, built first if it is not there; returns its path.
pub fn build(source: &Path) -> Result<PathBuf, String> {
    let metadata = std::fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let key = fnv1a(&[
        CONFIG.as_bytes(),
        RECIPE.as_bytes(),
        source.to_string_lossy().as_bytes(),
        &metadata.len().to_le_bytes(),
    ]);
    let dir = cache_root().join(format!("{key:016x}"));
    let boot = dir.join("boot");
    if let Some(image) = cached_image(&boot) {
        return Ok(image);
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "{}: {e} (set BPF_KERNEL_CACHE to a writable directory)",
            dir.display()
        )
    })?;
    // One build per configuration at a time, also across work trees.
    let lock_path = dir.join("lock");
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    if let Some(image) = cached_image(&boot) {
        return Ok(image);
    }

    let tree = dir.join("build");
    let log = dir.join("build.log");
    let _ = std::fs::remove_file(&log);
    let fragment = dir.join("fragment.config");
    std::fs::write(&fragment, CONFIG).map_err(|e| format!("{}: {e}", fragment.display()))?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut timings = String::new();
    let started = Instant::now();

    // An interrupted build resumes in the tree it left (make rebuilds only what is missing).
    let unpacked = tree.join(".unpacked-by-xtask");
    if unpacked.exists() {
        eprintln!("==== build-kernel: resuming in {}", tree.display());
    } else {
        eprintln!(
            "==== build-kernel: unpacking {} into {}",
            source.display(),
            tree.display()
        );
        let _ = std::fs::remove_dir_all(&tree);
        std::fs::create_dir_all(&tree).map_err(|e| format!("{}: {e}", tree.display()))?;
        let tree_text = tree.to_string_lossy().into_owned();
        run(
            &dir,
            "tar",
            &[
                "-xf",
                &source.to_string_lossy(),
                "-C",
                &tree_text,
                "--strip-components=1",
            ],
            &log,
        )?;
        std::fs::write(&unpacked, "").map_err(|e| format!("{}: {e}", unpacked.display()))?;
        let _ = writeln!(timings, "unpack {:.0} s", started.elapsed().as_secs_f64());
    }

    eprintln!(
        "==== build-kernel: configuring (allnoconfig + {} options)",
        fragment_options(CONFIG).len()
    );
    let phase = Instant::now();
    let allconfig = format!("KCONFIG_ALLCONFIG={}", fragment.display());
    run(&tree, "make", &["-s", &allconfig, "allnoconfig"], &log)?;
    let config_path = tree.join(".config");
    let config = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let missing = missing_options(CONFIG, &config);
    if !missing.is_empty() {
        return Err(format!(
            "these options did not survive the configuration (unmet dependencies, or a tool \
             missing: DEBUG_INFO_BTF needs pahole from dwarves): {}",
            missing.join(" ")
        ));
    }
    let _ = writeln!(timings, "configure {:.0} s", phase.elapsed().as_secs_f64());

    eprintln!(
        "==== build-kernel: compiling with {jobs} jobs (log: {})",
        log.display()
    );
    let phase = Instant::now();
    let local = format!("LOCALVERSION={LOCALVERSION}");
    run(
        &tree,
        "make",
        &[&format!("-j{jobs}"), &local, "bzImage"],
        &log,
    )?;
    let _ = writeln!(
        timings,
        "compile {:.0} s ({jobs} jobs)",
        phase.elapsed().as_secs_f64()
    );
    let release = Command::new("make")
        .args(["-s", &local, "kernelrelease"])
        .current_dir(&tree)
        .output()
        .map_err(|e| format!("make kernelrelease: {e}"))?;
    let release = String::from_utf8_lossy(&release.stdout).trim().to_string();
    if release.is_empty() || release.contains(char::is_whitespace) {
        return Err(format!("make kernelrelease gave {release:?}"));
    }
    std::fs::create_dir_all(&boot).map_err(|e| format!("{}: {e}", boot.display()))?;
    let copy = |from: PathBuf, to: PathBuf| {
        std::fs::copy(&from, &to)
            .map(drop)
            .map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))
    };
    copy(config_path, boot.join(format!("config-{release}")))?;
    copy(
        tree.join("arch/x86/boot/bzImage"),
        boot.join(format!("vmlinuz-{release}")),
    )?;
    let _ = writeln!(timings, "total {:.0} s", started.elapsed().as_secs_f64());
    std::fs::write(dir.join("timings.txt"), &timings).map_err(|e| e.to_string())?;
    eprint!("==== build-kernel: {release} built:\n{timings}");
    // The tree is gigabytes; the image and its configuration are all vm-test needs.
    let _ = std::fs::remove_dir_all(&tree);
    cached_image(&boot).ok_or_else(|| format!("{}: no image after the build", boot.display()))
}

/// The `vmlinuz-<release>` in a cache entry's `boot/`, if the build finished.
fn cached_image(boot: &Path) -> Option<PathBuf> {
    std::fs::read_dir(boot)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
}

pub fn run_task(args: &[String]) -> Result<(), String> {
    let source = match args {
        [] => find_source()?,
        [flag, path] if flag == "--source" => PathBuf::from(path),
        _ => return Err(USAGE.into()),
    };
    let image = build(&source)?;
    println!("{}", image.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_options_are_checked_against_the_final_config() {
        let fragment = "# comment\nCONFIG_A=y\n\nCONFIG_B=\"x\"\nCONFIG_C=y\n";
        assert_eq!(
            fragment_options(fragment),
            ["CONFIG_A=y", "CONFIG_B=\"x\"", "CONFIG_C=y"]
        );
        let config = "CONFIG_A=y\nCONFIG_B=\"x\"\n# CONFIG_C is not set\n";
        assert_eq!(missing_options(fragment, config), ["CONFIG_C=y"]);
    }

    #[test]
    fn the_shipped_fragment_asks_for_lirc_mode2() {
        let options = fragment_options(CONFIG);
        for needed in [
            "CONFIG_BPF_SYSCALL=y",
            "CONFIG_RC_CORE=y",
            "CONFIG_LIRC=y",
            "CONFIG_BPF_LIRC_MODE2=y",
            "CONFIG_RC_LOOPBACK=y",
            "CONFIG_PVH=y",
        ] {
            assert!(options.contains(&needed), "{needed}");
        }
    }

    #[test]
    fn sources_are_versioned_by_name() {
        assert_eq!(
            source_version(Path::new("/usr/src/linux-source-6.12.tar.xz")),
            Some(vec![6, 12])
        );
        assert_eq!(source_version(Path::new("/usr/src/linux-config-6.1")), None);
        assert!(
            source_version(Path::new("/usr/src/linux-source-6.12.tar.xz")).unwrap()
                > OLDEST_SOURCE.to_vec()
        );
    }

    #[test]
    fn keys_change_with_any_part() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert_eq!(fnv1a(&[b"x"]), fnv1a(&[b"x"]));
    }
}
