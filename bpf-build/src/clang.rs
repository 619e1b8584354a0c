//! Finding clang and compiling one `.bpf.c` with it.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// The Debian package to name when no clang is found.
const CLANG_PACKAGE: &str = "clang-19";

/// The clang to run: `$CLANG`, else `clang` on `PATH`, else the newest `clang-NN` on `PATH`.
pub fn find_clang() -> Result<PathBuf, Error> {
    choose_clang(
        std::env::var_os("CLANG"),
        &std::env::var_os("PATH").unwrap_or_default(),
    )
}

/// [`find_clang`] with the environment given.
fn choose_clang(clang_env: Option<OsString>, path: &OsStr) -> Result<PathBuf, Error> {
    if let Some(clang) = clang_env.filter(|c| !c.is_empty()) {
        return Ok(PathBuf::from(clang));
    }
    let dirs: Vec<PathBuf> = std::env::split_paths(path).collect();
    if let Some(clang) = dirs
        .iter()
        .map(|d| d.join("clang"))
        .find(|p| is_executable(p))
    {
        return Ok(clang);
    }
    let mut versioned: Vec<(u32, PathBuf)> = dirs
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version: u32 = name.to_str()?.strip_prefix("clang-")?.parse().ok()?;
            let path = entry.path();
            is_executable(&path).then_some((version, path))
        })
        .collect();
    versioned.sort();
    versioned.pop().map(|(_, path)| path).ok_or(Error::NoClang {
        package: CLANG_PACKAGE,
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `__TARGET_ARCH_*` for a Rust target architecture (`CARGO_CFG_TARGET_ARCH`), as libbpf's
/// `bpf_tracing.h` spells it.
pub fn target_arch_define(rust_arch: &str) -> Result<&'static str, Error> {
    Ok(match rust_arch {
        "x86_64" | "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" | "riscv32" => "riscv",
        "powerpc64" | "powerpc" => "powerpc",
        "s390x" => "s390",
        "loongarch64" => "loongarch",
        "mips" | "mips64" => "mips",
        "sparc64" => "sparc",
        other => {
            return Err(Error::UnsupportedArch {
                arch: other.to_owned(),
            });
        }
    })
}

/// Debian's multiarch tuple for an architecture: where `<asm/...>` lives under `/usr/include`.
fn multiarch(rust_arch: &str) -> Option<&'static str> {
    Some(match rust_arch {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "riscv64" => "riscv64-linux-gnu",
        "powerpc64" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "loongarch64" => "loongarch64-linux-gnu",
        _ => return None,
    })
}

/// One clang run.
#[derive(Debug)]
pub struct Compile<'a> {
    pub clang: &'a Path,
    pub source: &'a Path,
    pub output: &'a Path,
    pub depfile: &'a Path,
    pub rust_arch: &'a str,
    pub big_endian: bool,
    pub include_dirs: &'a [PathBuf],
    pub defines: &'a [(String, Option<String>)],
    pub extra_args: &'a [String],
}

/// What a successful compile printed (clang's warnings).
#[derive(Debug)]
pub struct Compiled {
    pub warnings: String,
}

impl Compile<'_> {
    /// The command line, without running it.
    pub fn command(&self) -> Result<Command, Error> {
        let arch = target_arch_define(self.rust_arch)?;
        let mut cmd = Command::new(self.clang);
        cmd.args(["-O2", "-g", "-target"])
            .arg(if self.big_endian { "bpfeb" } else { "bpfel" })
            .arg(format!("-D__TARGET_ARCH_{arch}"))
            .arg("-MD")
            .arg("-MF")
            .arg(self.depfile);
        for dir in self.include_dirs {
            cmd.arg("-I").arg(dir);
        }
        // libbpf's headers (<bpf/bpf_helpers.h>) and <linux/...> come from the system, after
        // everything the caller gives.
        if let Some(tuple) = multiarch(self.rust_arch) {
            let dir = Path::new("/usr/include").join(tuple);
            if dir.is_dir() {
                cmd.arg("-idirafter").arg(dir);
            }
        }
        cmd.args(["-idirafter", "/usr/include"]);
        for (name, value) in self.defines {
            match value {
                Some(value) => cmd.arg(format!("-D{name}={value}")),
                None => cmd.arg(format!("-D{name}")),
            };
        }
        cmd.args(self.extra_args)
            .arg("-c")
            .arg(self.source)
            .arg("-o")
            .arg(self.output);
        Ok(cmd)
    }

    /// Runs clang; its diagnostics come back as warnings, or inside the error.
    pub fn run(&self) -> Result<Compiled, Error> {
        let mut cmd = self.command()?;
        let out = cmd.output().map_err(|source| Error::RunClang {
            clang: self.clang.to_owned(),
            source,
        })?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            let hint = missing_header_hint(&stderr);
            return Err(Error::Compile {
                source_file: self.source.to_owned(),
                stderr,
                hint,
            });
        }
        Ok(Compiled { warnings: stderr })
    }
}

/// What to install when clang could not find a header the usual way.
fn missing_header_hint(stderr: &str) -> Option<&'static str> {
    if stderr.contains("'bpf/") && stderr.contains("file not found") {
        Some(
            "libbpf's headers (<bpf/bpf_helpers.h>, ...) are missing: install libbpf-dev \
             (Debian, Ubuntu) or libbpf-devel (Fedora), or add a folder holding bpf/ with \
             Builder::include_dir",
        )
    } else if stderr.contains("'asm/") && stderr.contains("file not found") {
        Some(
            "<asm/...> is missing: install linux-libc-dev (and libc6-dev), or include \
             vmlinux.h instead of <linux/...> headers",
        )
    } else {
        None
    }
}

/// The files a make-style dependency file (`clang -MD -MF`) lists as prerequisites.
pub fn parse_depfile(text: &str) -> Vec<PathBuf> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut deps = Vec::new();
    for line in joined.lines() {
        let Some((_, prerequisites)) = split_rule(line) else {
            continue;
        };
        let mut current = String::new();
        let mut chars = prerequisites.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    current.push(' ');
                    chars.next();
                }
                '$' if chars.peek() == Some(&'$') => {
                    current.push('$');
                    chars.next();
                }
                c if c.is_whitespace() => {
                    if !current.is_empty() {
                        deps.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            deps.push(PathBuf::from(current));
        }
    }
    deps
}

/// `target: prerequisites`, the colon being the first one followed by whitespace or the end.
fn split_rule(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()))
        .map(|i| (&line[..i], &line[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depfile() {
        let text = "/out/a.bpf.o: src/a.bpf.c /out/include/vmlinux.h \\\n  /usr/include/bpf/bpf_helpers.h my\\ dir/x.h\n";
        assert_eq!(
            parse_depfile(text),
            [
                "src/a.bpf.c",
                "/out/include/vmlinux.h",
                "/usr/include/bpf/bpf_helpers.h",
                "my dir/x.h"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn clang_choice() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("bpf-build-clang-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tool = |name: &str| {
            let path = dir.join(name);
            std::fs::write(&path, "").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let path = dir.as_os_str();
        let missing = choose_clang(None, path).unwrap_err().to_string();
        assert!(missing.contains("apt-get install clang-19"), "{missing}");
        tool("clang-9");
        let newest = tool("clang-19");
        tool("clang-19-extra");
        assert_eq!(choose_clang(None, path).unwrap(), newest);
        let plain = tool("clang");
        assert_eq!(choose_clang(None, path).unwrap(), plain);
        assert_eq!(
            choose_clang(Some("/opt/llvm/bin/clang".into()), path).unwrap(),
            PathBuf::from("/opt/llvm/bin/clang")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cross_command_line() {
        let includes = [PathBuf::from("/out/include")];
        let defines = [
            ("DEBUG".to_owned(), None),
            ("LEVEL".to_owned(), Some("2".to_owned())),
        ];
        let compile = Compile {
            clang: Path::new("clang"),
            source: Path::new("src/x.bpf.c"),
            output: Path::new("/out/x.bpf.o"),
            depfile: Path::new("/out/x.d"),
            rust_arch: "aarch64",
            big_endian: false,
            include_dirs: &includes,
            defines: &defines,
            extra_args: &[],
        };
        let args: Vec<String> = compile
            .command()
            .unwrap()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        for expected in [
            "-O2 -g -target bpfel",
            "-D__TARGET_ARCH_arm64",
            "-MD -MF /out/x.d",
            "-I /out/include",
            "-idirafter /usr/include",
            "-DDEBUG -DLEVEL=2",
            "-c src/x.bpf.c -o /out/x.bpf.o",
        ] {
            assert!(
                joined.contains(expected),
                "`{expected}` missing in `{joined}`"
            );
        }
    }

    #[test]
    fn arch_defines() {
        assert_eq!(target_arch_define("x86_64").unwrap(), "x86");
        assert_eq!(target_arch_define("aarch64").unwrap(), "arm64");
        assert!(target_arch_define("wasm32").is_err());
    }

    #[test]
    fn header_hints() {
        assert!(
            missing_header_hint("x.c:3:10: fatal error: 'bpf/bpf_helpers.h' file not found")
                .unwrap()
                .contains("libbpf-dev")
        );
        assert!(missing_header_hint("x.c:3: error: expected ';'").is_none());
    }
}
