//! Builds every test binary of the chosen packages (by default [`DEFAULT_PACKAGES`]) in a target
//! directory of its own, tuned for the guest (a little optimisation, no debug info) without
//! disturbing the normal build.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::arch::GuestArch;

pub const DEFAULT_PACKAGE: &str = "integration-tests";
/// What the guests run unless told otherwise: the integration tests, and the kernel tests of
/// the two lower layers (bpf-sys' syscall wrappers, bpf-core's objects loaded raw).
pub const DEFAULT_PACKAGES: [&str; 3] = [DEFAULT_PACKAGE, "bpf-sys", "bpf-core"];

/// bpf-core is tested without a kernel by design; these of its test targets are the ones that
/// also talk to one (load what it produced, read the kernel's BTF). The rest would only cost
/// guest time (each test is a process start under TCG), so a default run leaves them out.
const BPF_CORE_KERNEL_TESTS: &[&str] = &[
    "obj_kernel_load",
    "btf_sanitize",
    "btf_core",
    "struct_ops_layout",
];

/// Whether a default run (no `--package`) takes `binary` into the guest: everything of
/// `integration-tests` and `bpf-sys`, bpf-core's kernel-facing targets.
pub fn in_default_run(binary: &TestBinary) -> bool {
    match binary.name.strip_prefix("bpf-core.") {
        Some(target) => BPF_CORE_KERNEL_TESTS.contains(&target),
        None => true,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// The cargo target name (`smoke` for `tests/tests/smoke.rs`), `<crate>-lib` for unit
    /// tests; prefixed with `<package>.` for packages other than [`DEFAULT_PACKAGE`].
    pub name: String,
    pub path: PathBuf,
    /// The package's directory, where cargo would run the binary.
    pub package_dir: PathBuf,
    /// The tests it holds, as `--list` names them (filled in after the build).
    pub tests: Vec<String>,
    /// Those of [`Self::tests`] marked `#[ignore]`.
    pub ignored: Vec<String>,
}

/// Runs cargo and returns the test executables it produced, built for `arch` (cross-linked with
/// Debian's cross compiler when that is not this machine); `only_targets` names the test targets
/// (`--test <name>`) when not all are needed.
pub fn build_tests(
    root: &Path,
    packages: &[String],
    only_targets: Option<&[String]>,
    arch: GuestArch,
) -> Result<Vec<TestBinary>, String> {
    let target_dir = root.join("target").join("vm-test");
    let target = arch.rust_target();
    let target_env = target.to_uppercase().replace('-', "_");
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(root).arg("test");
    for package in packages {
        cargo.args(["--package", package]);
    }
    // Only the test targets a run needs: building the others for a second architecture costs
    // minutes.
    for name in only_targets.unwrap_or_default() {
        cargo.args(["--test", name]);
    }
    cargo
        .args(["--no-run", "--message-format=json-render-diagnostics"])
        .args(["--target", target])
        .arg("--target-dir")
        .arg(&target_dir)
        // Per-target flags leave build scripts and proc macros alone.
        .env(
            format!("CARGO_TARGET_{target_env}_RUSTFLAGS"),
            "-C strip=debuginfo",
        )
        // Tests run under TCG: a little optimisation pays for itself, debug info only bloats
        // the initramfs.
        .env("CARGO_PROFILE_DEV_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if !arch.is_host() {
        cargo.env(
            format!("CARGO_TARGET_{target_env}_LINKER"),
            arch.cross_linker(),
        );
    }
    let mut child = cargo.spawn().map_err(|e| format!("spawning cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("cargo stdout was not piped")?;
    let mut binaries = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(binary) = test_executable(&line, packages) {
            binaries.push(binary);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the test binaries for {target} failed: {status}{}",
            if arch.is_host() {
                String::new()
            } else {
                format!(
                    " (needs `rustup target add {target}` and {})",
                    arch.cross_linker()
                )
            }
        ));
    }
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    binaries.dedup_by(|a, b| a.name == b.name);
    for binary in &mut binaries {
        binary.tests = list_tests(&binary.path, false, arch)?;
        binary.ignored = list_tests(&binary.path, true, arch)?;
    }
    // A binary without tests (the library's unit-test harness, usually) is not worth booting.
    binaries.retain(|binary| !binary.tests.is_empty());
    Ok(binaries)
}

/// The tests (or only the ignored ones) a libtest binary holds; listing runs nothing, so it is
/// safe on the host (a foreign binary runs under qemu's user-mode emulator, its libraries taken
/// from the cross toolchain).
fn list_tests(path: &Path, ignored: bool, arch: GuestArch) -> Result<Vec<String>, String> {
    let mut command = if arch.is_host() {
        Command::new(path)
    } else {
        let mut emulated = Command::new(arch.user_emulator());
        emulated.arg("-L").arg(arch.cross_sysroot()).arg(path);
        emulated
    };
    let out = command
        .args(["--list", "--format=terse"])
        .args(ignored.then_some("--ignored"))
        .output()
        .map_err(|e| {
            let hint = if arch.is_host() {
                ""
            } else {
                " (install qemu-user)"
            };
            format!("{} --list: {e}{hint}", path.display())
        })?;
    if !out.status.success() {
        return Err(format!("{} --list failed: {}", path.display(), out.status));
    }
    Ok(parse_test_list(&String::from_utf8_lossy(&out.stdout)))
}

/// `name: test` lines of `--list --format=terse`; benchmarks and summary lines are left out.
fn parse_test_list(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// The package name in a package id: `path+file:///w/tests#integration-tests@0.1.0` or, when
/// the directory is named like the package, `path+file:///w/bpf-sys#0.1.0`.
fn package_name(package_id: &str) -> Option<&str> {
    let (location, fragment) = package_id.rsplit_once('#')?;
    match fragment.split_once('@') {
        Some((name, _version)) => Some(name),
        None => location.rsplit('/').next(),
    }
}

/// Picks a test executable of one of `packages` out of one line of cargo's JSON messages.
pub(crate) fn test_executable(line: &str, packages: &[String]) -> Option<TestBinary> {
    if !line.contains(r#""reason":"compiler-artifact""#) {
        return None;
    }
    let package_id = json_string(line, "package_id")?;
    let package = package_name(&package_id)?;
    if !packages.iter().any(|p| p == package) {
        return None;
    }
    let executable = json_string(line, "executable")?;
    let manifest = PathBuf::from(json_string(line, "manifest_path")?);
    let target = &line[line.find(r#""target":{"#)?..];
    let name = json_string(target, "name")?;
    let is_lib = target.contains(r#""kind":["lib"]"#);
    let name = if is_lib { format!("{name}-lib") } else { name };
    let name = if package == DEFAULT_PACKAGE {
        name
    } else {
        format!("{package}.{name}")
    };
    Some(TestBinary {
        name,
        path: PathBuf::from(executable),
        package_dir: manifest.parent()?.to_path_buf(),
        tests: Vec::new(),
        ignored: Vec::new(),
    })
}

/// The first string value of `"key":"..."` in a JSON text, unescaped; `None` for other types.
fn json_string(json: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\":\"");
    let start = json.find(&needle)? + needle.len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'b' => value.push('\u{8}'),
                'f' => value.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    value.push(
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('\u{fffd}'),
                    );
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_messages_yield_test_executables_of_the_package() {
        let test = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/tests#integration-tests@0.1.0","manifest_path":"/w/tests/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"smoke","src_path":"/w/tests/tests/smoke.rs","test":true},"profile":{"test":true},"executable":"/w/target/x/debug/deps/smoke-1a2b","fresh":true}"#;
        let default = [DEFAULT_PACKAGE.to_string()];
        assert_eq!(
            test_executable(test, &default),
            Some(TestBinary {
                name: "smoke".into(),
                path: "/w/target/x/debug/deps/smoke-1a2b".into(),
                package_dir: "/w/tests".into(),
                tests: Vec::new(),
                ignored: Vec::new(),
            })
        );
        let lib = test
            .replace(r#""kind":["test"]"#, r#""kind":["lib"]"#)
            .replace("\"smoke\"", "\"integration_tests\"");
        assert_eq!(
            test_executable(&lib, &default).map(|b| b.name),
            Some("integration_tests-lib".into())
        );
        let other = test
            .replace("tests#integration-tests@0.1.0", "bpf-sys#0.1.0")
            .replace("/w/tests/Cargo.toml", "/w/bpf-sys/Cargo.toml");
        assert_eq!(test_executable(&other, &default), None);
        let both = [DEFAULT_PACKAGE.to_string(), "bpf-sys".to_string()];
        let binary = test_executable(&other, &both).unwrap();
        assert_eq!(binary.name, "bpf-sys.smoke");
        assert_eq!(binary.package_dir, Path::new("/w/bpf-sys"));
        let no_exe = test.replace(
            r#""executable":"/w/target/x/debug/deps/smoke-1a2b""#,
            r#""executable":null"#,
        );
        assert_eq!(test_executable(&no_exe, &default), None);
    }

    #[test]
    fn default_runs_take_only_bpf_cores_kernel_tests() {
        let binary = |name: &str| TestBinary {
            name: name.into(),
            path: PathBuf::new(),
            package_dir: PathBuf::new(),
            tests: Vec::new(),
            ignored: Vec::new(),
        };
        assert!(in_default_run(&binary("smoke")));
        assert!(in_default_run(&binary("bpf-sys.attach")));
        assert!(in_default_run(&binary("bpf-core.obj_kernel_load")));
        assert!(!in_default_run(&binary("bpf-core.obj_malformed")));
        assert!(!in_default_run(&binary("bpf-core.bpf_core-lib")));
    }

    #[test]
    fn package_names_come_from_either_id_form() {
        assert_eq!(
            package_name("path+file:///w/tests#integration-tests@0.1.0"),
            Some("integration-tests")
        );
        assert_eq!(
            package_name("path+file:///w/bpf-sys#0.1.0"),
            Some("bpf-sys")
        );
        assert_eq!(package_name("registry+https://x#libc@0.2.1"), Some("libc"));
        assert_eq!(package_name("no fragment"), None);
    }

    #[test]
    fn test_lists_keep_tests_only() {
        let listing = "xdp_attach: test\nmod_a::xdp_detach: test\nbench_x: benchmark\n\n2 tests, 1 benchmark\n";
        assert_eq!(
            parse_test_list(listing),
            ["xdp_attach", "mod_a::xdp_detach"]
        );
    }

    #[test]
    fn json_strings_are_unescaped() {
        assert_eq!(
            json_string(r#"{"a":"x\"y\\z\u0041"}"#, "a").as_deref(),
            Some("x\"y\\zA")
        );
        assert_eq!(json_string(r#"{"a":null}"#, "a"), None);
        assert_eq!(json_string(r#"{"a":"unterminated"#, "a"), None);
    }
}
