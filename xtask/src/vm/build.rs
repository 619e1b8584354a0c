//! Builds every test binary of the `integration-tests` package statically linked, in a target
//! directory of its own, so the binaries run in an initramfs without a C library.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const PACKAGE: &str = "integration-tests";
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// The cargo target name (`smoke` for `tests/tests/smoke.rs`); `<crate>-lib` for unit tests.
    pub name: String,
    pub path: PathBuf,
    /// The tests it holds, as `--list` names them (filled in after the build).
    pub tests: Vec<String>,
}

/// Runs cargo and returns the test executables it produced.
pub fn build_tests(root: &Path) -> Result<Vec<TestBinary>, String> {
    let target_dir = root.join("target").join("vm-test");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(root)
        .args([
            "test",
            "--package",
            PACKAGE,
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Per-target flags leave build scripts and proc macros dynamically linked, as they must be.
        .env(
            format!(
                "CARGO_TARGET_{}_RUSTFLAGS",
                TARGET.to_uppercase().replace('-', "_")
            ),
            "-C target-feature=+crt-static -C strip=debuginfo",
        )
        // Tests run under TCG: a little optimisation pays for itself, debug info only bloats
        // the initramfs.
        .env("CARGO_PROFILE_DEV_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cargo.spawn().map_err(|e| format!("spawning cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("cargo stdout was not piped")?;
    let mut binaries = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(binary) = test_executable(&line) {
            binaries.push(binary);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the static test binaries failed: {status}"
        ));
    }
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    binaries.dedup_by(|a, b| a.name == b.name);
    for binary in &mut binaries {
        ensure_static(&binary.path)?;
        binary.tests = list_tests(&binary.path)?;
    }
    // A binary without tests (the library's unit-test harness, usually) is not worth booting.
    binaries.retain(|binary| !binary.tests.is_empty());
    Ok(binaries)
}

/// The tests a libtest binary holds; listing runs nothing, so it is safe on the host.
fn list_tests(path: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(path)
        .args(["--list", "--format=terse"])
        .output()
        .map_err(|e| format!("{} --list: {e}", path.display()))?;
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

/// Picks a test executable of [`PACKAGE`] out of one line of cargo's JSON messages.
fn test_executable(line: &str) -> Option<TestBinary> {
    if !line.contains(r#""reason":"compiler-artifact""#) {
        return None;
    }
    let package_id = json_string(line, "package_id")?;
    if !package_id.contains(&format!("#{PACKAGE}@"))
        && !package_id.contains(&format!("/{PACKAGE}#"))
    {
        return None;
    }
    let executable = json_string(line, "executable")?;
    let target = &line[line.find(r#""target":{"#)?..];
    let name = json_string(target, "name")?;
    let is_lib = target.contains(r#""kind":["lib"]"#);
    let name = if is_lib { format!("{name}-lib") } else { name };
    Some(TestBinary {
        name,
        path: PathBuf::from(executable),
        tests: Vec::new(),
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

/// Refuses executables that need a dynamic loader the initramfs does not have.
fn ensure_static(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if has_interpreter(&bytes)
        .ok_or_else(|| format!("{}: not a 64-bit ELF file", path.display()))?
    {
        return Err(format!(
            "{} is dynamically linked (PT_INTERP); the static build did not take",
            path.display()
        ));
    }
    Ok(())
}

/// Whether a little-endian ELF64 file has a PT_INTERP program header.
pub fn has_interpreter(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let phoff = u64::from_le_bytes(elf.get(0x20..0x28)?.try_into().ok()?);
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    let phoff = usize::try_from(phoff).ok()?;
    for index in 0..phnum {
        let at = phoff.checked_add(index.checked_mul(phentsize)?)?;
        let p_type = u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?);
        if p_type == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_messages_yield_test_executables_of_the_package() {
        let test = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/tests#integration-tests@0.1.0","manifest_path":"/w/tests/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"smoke","src_path":"/w/tests/tests/smoke.rs","test":true},"profile":{"test":true},"executable":"/w/target/x/debug/deps/smoke-1a2b","fresh":true}"#;
        assert_eq!(
            test_executable(test),
            Some(TestBinary {
                name: "smoke".into(),
                path: "/w/target/x/debug/deps/smoke-1a2b".into(),
                tests: Vec::new(),
            })
        );
        let lib = test
            .replace(r#""kind":["test"]"#, r#""kind":["lib"]"#)
            .replace("\"smoke\"", "\"integration_tests\"");
        assert_eq!(
            test_executable(&lib).map(|b| b.name),
            Some("integration_tests-lib".into())
        );
        let other = test.replace("#integration-tests@", "#bpf-core@");
        assert_eq!(test_executable(&other), None);
        let no_exe = test.replace(
            r#""executable":"/w/target/x/debug/deps/smoke-1a2b""#,
            r#""executable":null"#,
        );
        assert_eq!(test_executable(&no_exe), None);
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

    #[test]
    fn interpreter_is_detected() {
        let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // Test binaries of xtask itself are built the ordinary (dynamic) way.
        assert_eq!(has_interpreter(&this), Some(true));
        assert_eq!(has_interpreter(b"\x7fELF\x02\x01 truncated"), None);
    }
}
