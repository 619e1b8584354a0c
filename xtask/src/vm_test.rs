//! `cargo xtask vm-test`: the integration tests on a second kernel, booted under qemu.
//!
//! Builds the test binaries (`integration-tests`, `bpf-sys`, `bpf-core`), packs them and their shared libraries with busybox,
//! host tools and the needed kernel modules into an initramfs, boots the kernel (default: the
//! newest `/boot/vmlinuz-*` that is not the running kernel) and parses the guest's serial
//! console. See docs/vm-test.md.

#[path = "vm/arch.rs"]
pub(crate) mod arch;
#[path = "vm/build.rs"]
pub(crate) mod build;
#[path = "vm/cpio.rs"]
mod cpio;
#[path = "vm/foreign.rs"]
mod foreign;
#[path = "vm/initramfs.rs"]
mod initramfs;
#[path = "vm/libraries.rs"]
mod libraries;
#[path = "vm/modules.rs"]
mod modules;
#[path = "vm/qemu.rs"]
mod qemu;
#[path = "vm/report.rs"]
pub(crate) mod report;
#[path = "vm/vmlinux.rs"]
mod vmlinux;

/// The uncompressed ELF vmlinux of a bzImage, cached under `cache_dir`.
pub(crate) use vmlinux::unpack as unpack_vmlinux;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arch::GuestArch;

const USAGE: &str = "usage: cargo xtask vm-test [--kernel /boot/vmlinuz-<release>] [--package <name>]... \
                     [--filter <substring>]... [--filter-file <path>] [--timeout <secs>] \
                     [--test-timeout <secs>] [--inject-failure] [--verbose]";

/// Command-line words the kernel needs (after the serial console's): no reboot loop on panic,
/// an oops is a panic (so the host sees it), quiet boot, and the BPF LSM enabled for lsm
/// programs.
const BASE_CMDLINE: &str = "panic=-1 oops=panic loglevel=3 \
                            lsm=lockdown,capability,landlock,yama,apparmor,bpf";

#[derive(Debug)]
struct Options {
    kernel: Option<PathBuf>,
    packages: Vec<String>,
    /// No `--package` given: [`build::DEFAULT_PACKAGES`], trimmed by [`build::in_default_run`].
    default_packages: bool,
    /// A test runs when its `<binary>/<test>` contains any of these (all tests when empty).
    filters: Vec<String>,
    timeout: Duration,
    test_timeout_secs: u64,
    inject_failure: bool,
    verbose: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        kernel: std::env::var_os("VMTEST_KERNEL_IMAGE").map(PathBuf::from),
        packages: Vec::new(),
        default_packages: true,
        filters: Vec::new(),
        timeout: Duration::from_secs(900),
        test_timeout_secs: 120,
        inject_failure: std::env::var("VMTEST_INJECT_FAILURE")
            .is_ok_and(|v| !v.is_empty() && v != "0"),
        verbose: false,
    };
    let mut args = args.iter();
    let secs = |value: Option<&String>| -> Result<u64, String> {
        value
            .and_then(|v| v.parse().ok())
            .filter(|&s| s > 0)
            .ok_or_else(|| USAGE.to_string())
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kernel" => options.kernel = Some(args.next().ok_or(USAGE)?.into()),
            "--filter" => options.filters.push(args.next().ok_or(USAGE)?.clone()),
            "--filter-file" => {
                let path = args.next().ok_or(USAGE)?;
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                options.filters.extend(filter_lines(&text));
            }
            "--package" | "-p" => options.packages.push(args.next().ok_or(USAGE)?.clone()),
            "--timeout" => options.timeout = Duration::from_secs(secs(args.next())?),
            "--test-timeout" => options.test_timeout_secs = secs(args.next())?,
            "--inject-failure" => options.inject_failure = true,
            "--verbose" | "-v" => options.verbose = true,
            _ => return Err(USAGE.to_string()),
        }
    }
    options.default_packages = options.packages.is_empty();
    if options.default_packages {
        options.packages = build::DEFAULT_PACKAGES.map(String::from).to_vec();
    }
    Ok(options)
}

/// The filters of a filter file: one per line, `#` comments and blank lines left out.
fn filter_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// The test targets that filters of the form `<binary>/<test>` can match, when every filter
/// names its binary that way (and none another package's, `<package>.<target>`); `None`: all.
fn filtered_targets(filters: &[String]) -> Option<Vec<String>> {
    let mut targets: Vec<String> = filters
        .iter()
        .map(|filter| {
            let (binary, _) = filter.split_once('/')?;
            (!binary.is_empty() && !binary.contains('.')).then(|| binary.to_string())
        })
        .collect::<Option<_>>()?;
    targets.sort();
    targets.dedup();
    (!targets.is_empty()).then_some(targets)
}

/// `/boot/vmlinuz-6.1.0-56-amd64` → `6.1.0-56-amd64`.
fn release_of(kernel: &Path) -> Option<String> {
    let name = kernel.file_name()?.to_str()?;
    name.strip_prefix("vmlinuz-").map(str::to_string)
}

/// The newest kernel in /boot with modules installed, preferring one other than the running one.
fn default_kernel() -> Result<PathBuf, String> {
    let running = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut kernels: Vec<(bool, String, PathBuf)> = std::fs::read_dir("/boot")
        .map_err(|e| format!("/boot: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|path| {
            let release = release_of(&path)?;
            let has_modules = Path::new("/lib/modules")
                .join(&release)
                .join("modules.dep")
                .exists();
            has_modules.then(|| (release != running.trim(), release, path))
        })
        .collect();
    kernels.sort_by_key(|(other, release, _)| (*other, version_key(release)));
    kernels.pop().map(|(_, _, path)| path).ok_or_else(|| {
        "no /boot/vmlinuz-<release> with /lib/modules/<release> (install linux-image-amd64) \
         and no --kernel given"
            .to_string()
    })
}

/// Numeric fields of a release, so 6.10 sorts after 6.9.
fn version_key(release: &str) -> Vec<u64> {
    release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The uncompressed vmlinux when the kernel has a PVH entry point (boots ~5 s faster under TCG),
/// else the bzImage itself.
fn bootable_image(kernel: &Path, release: &str, cache_dir: &Path) -> PathBuf {
    let config = kernel.with_file_name(format!("config-{release}"));
    let has_pvh =
        std::fs::read_to_string(&config).is_ok_and(|c| c.lines().any(|l| l == "CONFIG_PVH=y"));
    if !has_pvh {
        return kernel.to_path_buf();
    }
    vmlinux::unpack(kernel, release, cache_dir).unwrap_or_else(|e| {
        println!("note: booting the bzImage, unpacking vmlinux failed: {e}");
        kernel.to_path_buf()
    })
}

/// The modules to load in the guest, in load order; none when the kernel has no module tree.
/// Where a kernel's modules are: beside an unpacked package (`<root>/boot/vmlinuz-<release>`
/// with `<root>/lib/modules/<release>`), else the host's `/lib/modules/<release>`.
fn modules_dir(kernel: &Path, release: &str) -> PathBuf {
    let unpacked = kernel
        .parent()
        .filter(|boot| boot.ends_with("boot"))
        .and_then(Path::parent)
        .map(|root| root.join("lib/modules").join(release));
    match unpacked {
        Some(dir) if dir.join("modules.dep").exists() => dir,
        _ => Path::new("/lib/modules").join(release),
    }
}

fn collect_modules(dir: &Path, release: &str) -> Vec<modules::Module> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("{}/{name}: {e}", dir.display()))
    };
    let dep = match read("modules.dep") {
        Ok(dep) => dep,
        Err(e) => {
            println!("note: no modules for the guest ({e}); tests needing veth or tc may fail");
            return Vec::new();
        }
    };
    let resolution = modules::resolve(
        dir,
        &dep,
        &read("modules.builtin").unwrap_or_default(),
        modules::WANTED,
    );
    for missing in &resolution.missing {
        println!("note: kernel {release} has no module {missing} (neither built in nor a .ko)");
    }
    resolution.load_order
}

/// Where the summaries of guest runs go, one file per kernel, for `cargo xtask summary`.
pub(crate) fn summaries_dir() -> PathBuf {
    crate::workspace_root()
        .join("target")
        .join("vm-test-summaries")
}

/// The summary file of a run on `release` (`default` before the kernel is known); a run with
/// an injected failure writes beside the directory, so `cargo xtask summary` never reads it.
fn summary_path(release: Option<&str>, inject_failure: bool) -> PathBuf {
    if inject_failure {
        return crate::workspace_root()
            .join("target")
            .join("vm-test-inject-failure.txt");
    }
    summaries_dir().join(format!("{}.txt", release.unwrap_or("default")))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let release = match &options.kernel {
        Some(kernel) => release_of(kernel),
        None => default_kernel().ok().as_deref().and_then(release_of),
    };
    let summary_path = summary_path(release.as_deref(), options.inject_failure);
    // A summary always describes this run, even one that never reached the guest.
    let _ = std::fs::remove_file(&summary_path);
    run_with(&options, &summary_path).inspect_err(|error| {
        if !summary_path.exists() {
            let _ = std::fs::create_dir_all(summary_path.parent().unwrap_or(Path::new(".")));
            let _ = std::fs::write(&summary_path, format!("vm-test did not run: {error}\n"));
        }
    })
}

fn run_with(options: &Options, summary_path: &Path) -> Result<(), String> {
    let root = crate::workspace_root();
    let kernel = match &options.kernel {
        Some(kernel) => kernel.clone(),
        None => default_kernel()?,
    };
    if !kernel.is_file() {
        return Err(format!("{}: no such kernel image", kernel.display()));
    }
    let release = release_of(&kernel).ok_or_else(|| {
        format!(
            "{}: expected a file named vmlinuz-<release>",
            kernel.display()
        )
    })?;
    let arch = arch::of_kernel(&kernel, &release)
        .ok_or_else(|| format!("{}: of an unknown architecture", kernel.display()))?;
    let busybox = initramfs::busybox_for(arch)?;
    let started = Instant::now();

    let packages = options.packages.join(", ");
    println!(
        "==== vm-test: building test binaries of {packages} for {}",
        arch.rust_target()
    );
    let only_targets = filtered_targets(&options.filters);
    let mut binaries = build::build_tests(&root, &options.packages, only_targets.as_deref(), arch)?;
    if options.default_packages {
        binaries.retain(build::in_default_run);
    }
    if !options.filters.is_empty() {
        for binary in &mut binaries {
            let name = binary.name.clone();
            binary.tests.retain(|test| {
                let path = format!("{name}/{test}");
                options.filters.iter().any(|f| path.contains(f.as_str()))
            });
        }
        binaries.retain(|binary| !binary.tests.is_empty());
    }
    if binaries.is_empty() {
        return Err(format!(
            "no tests to run in {packages} (filters: {:?})",
            options.filters
        ));
    }
    let built = started.elapsed();

    let modules = collect_modules(&modules_dir(&kernel, &release), &release);
    let mut host_files = libraries::CopyList::default();
    for binary in &binaries {
        if arch.is_host() {
            host_files.add_libraries_of(&binary.path)?;
        } else {
            host_files
                .add_foreign_libraries_of(&binary.path, &[arch.cross_sysroot().join("lib")])?;
        }
    }
    if !host_files.add_kernel_config(
        &kernel.with_file_name(format!("config-{release}")),
        &release,
    ) {
        println!("note: no /boot/config-{release}: the guest's __kconfig externs stay unset");
    }
    // Another architecture gets the same tools from Debian's packages of that architecture.
    let missing_tools: Vec<String> = if arch.is_host() {
        host_files
            .add_tools()
            .into_iter()
            .map(String::from)
            .collect()
    } else {
        foreign::add_tools(&mut host_files, arch)
    };
    if !missing_tools.is_empty() {
        println!(
            "note: the guest will lack {} (not installed here)",
            missing_tools.join(", ")
        );
    }
    let contents = initramfs::Contents {
        release: &release,
        binaries: &binaries,
        modules: &modules,
        host_files: &host_files.copies,
        test_timeout_secs: options.test_timeout_secs,
    };
    let archive = initramfs::build(&contents, &busybox)?;
    let scratch = std::env::temp_dir().join(format!("xtask-vm-test-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let initramfs_path = scratch.join("initramfs.cpio");
    std::fs::write(&initramfs_path, &archive)
        .map_err(|e| format!("{}: {e}", initramfs_path.display()))?;
    println!(
        "==== vm-test: {} binaries ({}), {} modules, initramfs {:.1} MiB",
        binaries.len(),
        binaries
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        modules.len(),
        archive.len() as f64 / (1024.0 * 1024.0)
    );

    let mut cmdline = format!(
        "console={} {BASE_CMDLINE} VMTEST_KERNEL={release}",
        arch.console()
    );
    if options.inject_failure {
        cmdline.push_str(" VMTEST_INJECT_FAILURE=1");
    }
    let boot_image = match arch {
        GuestArch::X86_64 => {
            bootable_image(&kernel, &release, &root.join("target").join("vm-test"))
        }
        GuestArch::Aarch64 => kernel.clone(),
    };
    println!(
        "==== vm-test: booting {} under {} (TCG)",
        boot_image.display(),
        arch.qemu()
    );
    let boot = qemu::Boot {
        arch,
        kernel: &boot_image,
        initramfs: &initramfs_path,
        cmdline: &cmdline,
        memory_mib: 1024,
        cpus: 2,
        timeout: options.timeout,
    };
    let log_path = root.join("target").join("vm-test-console.log");
    let mut log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut parser = report::ConsoleParser::new();
    let booted = Instant::now();
    let ending = qemu::run(&boot, |line| {
        let _ = log.write_all(line.as_bytes());
        if options.verbose {
            print!("guest {:6.2}s| {line}", booted.elapsed().as_secs_f64());
        }
        if let Some(shown) = parser.feed_at(line, booted.elapsed().as_secs_f64()) {
            println!("{shown}");
        }
    });
    let _ = std::fs::remove_dir_all(&scratch);
    let ending = ending?;
    let in_guest = booted.elapsed();
    let mut report = parser.finish(ending);
    for binary in &binaries {
        report.require_all(&binary.name, &binary.tests);
    }

    for result in &report.results {
        if matches!(result.outcome, report::Outcome::Fail(_)) {
            println!(
                "\n---- output of {}/{} in the guest:",
                result.binary, result.test
            );
            for line in &result.output {
                println!("{line}");
            }
        }
    }
    let summary = report.summary(started.elapsed().as_secs_f64(), arch.name());
    let timings = format!(
        "timings: build {:.1} s, initramfs + kernel unpack {:.1} s, guest boot + tests {:.1} s, \
         total {:.1} s (console log: {})\n",
        built.as_secs_f64(),
        (booted - started - built).as_secs_f64(),
        in_guest.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        log_path.display()
    );
    println!("\n{summary}{timings}");
    std::fs::create_dir_all(summary_path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{e}"))?;
    std::fs::write(summary_path, format!("{summary}{timings}"))
        .map_err(|e| format!("{}: {e}", summary_path.display()))?;
    if report.failed() {
        Err(format!(
            "failures on kernel {release}; see above and {}",
            summary_path.display()
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_comes_from_the_image_name() {
        assert_eq!(
            release_of(Path::new("/boot/vmlinuz-6.1.0-56-amd64")).as_deref(),
            Some("6.1.0-56-amd64")
        );
        assert_eq!(release_of(Path::new("/boot/bzImage")), None);
    }

    #[test]
    fn versions_sort_numerically() {
        assert!(version_key("6.10.0-1-amd64") > version_key("6.9.0-3-amd64"));
    }

    #[test]
    fn options_parse_and_reject_bad_input() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let options = parse_options(&args(
            "--filter smoke --filter net_xdp/ --test-timeout 30 --inject-failure",
        ))
        .unwrap();
        assert_eq!(options.filters, ["smoke", "net_xdp/"]);
        assert_eq!(options.test_timeout_secs, 30);
        assert!(options.inject_failure);
        assert!(options.default_packages);
        assert_eq!(options.packages, build::DEFAULT_PACKAGES);
        let explicit = parse_options(&args("-p bpf-core")).unwrap();
        assert!(!explicit.default_packages);
        assert_eq!(explicit.packages, ["bpf-core"]);
        assert!(parse_options(&args("--timeout 0")).is_err());
        assert!(parse_options(&args("--bogus")).is_err());
        assert!(parse_options(&args("--kernel")).is_err());
        assert!(parse_options(&args("--filter-file /nonexistent/list")).is_err());
    }

    #[test]
    fn filters_naming_their_binaries_build_only_those() {
        let filters = |list: &[&str]| list.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        assert_eq!(
            filtered_targets(&filters(&["smoke/", "prog_kprobe/kprobe_x", "smoke/y"])),
            Some(vec!["prog_kprobe".to_string(), "smoke".to_string()])
        );
        assert_eq!(filtered_targets(&filters(&["kprobe"])), None);
        assert_eq!(filtered_targets(&filters(&["smoke/", "kprobe"])), None);
        assert_eq!(filtered_targets(&filters(&["bpf-sys.attach/x"])), None);
        assert_eq!(filtered_targets(&[]), None);
    }

    #[test]
    fn filter_files_give_one_filter_a_line() {
        assert_eq!(
            filter_lines("# firing tests\nprog_kprobe/kprobe_ksyscall  # comment\n\n  net_xdp/\n"),
            ["prog_kprobe/kprobe_ksyscall", "net_xdp/"]
        );
    }
}
