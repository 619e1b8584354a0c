//! The error of a build.

use std::path::PathBuf;

/// Why a build failed. Its `Debug` is its message with its causes, so `build.rs` can return it
/// from `main` (or `unwrap` it) and cargo shows a readable reason.
#[non_exhaustive]
pub enum Error {
    /// No clang on `PATH` and `CLANG` unset.
    NoClang { package: &'static str },
    /// clang could not be started.
    RunClang {
        clang: PathBuf,
        source: std::io::Error,
    },
    /// clang refused a source.
    Compile {
        source_file: PathBuf,
        stderr: String,
        hint: Option<&'static str>,
    },
    /// No `__TARGET_ARCH_*` for this Rust target architecture.
    UnsupportedArch { arch: String },
    /// Neither `OUT_DIR` (not running from a build script) nor [`crate::Builder::out_dir`].
    NoOutDir,
    /// A file could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// BTF could not be read or written as C.
    Btf { path: PathBuf, reason: String },
    /// A skeleton could not be generated from a compiled object.
    Skeleton { object: String, reason: String },
    /// Rust types could not be generated.
    Types { reason: String },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoClang { package } => write!(
                f,
                "no clang found: set CLANG to a clang binary, or install clang \
                 (Debian/Ubuntu: apt-get install {package}; Fedora: dnf install clang)"
            ),
            Error::RunClang { clang, .. } => write!(f, "running {}", clang.display()),
            Error::Compile {
                source_file,
                stderr,
                hint,
            } => {
                write!(
                    f,
                    "clang failed on {}:\n{}",
                    source_file.display(),
                    stderr.trim_end()
                )?;
                if let Some(hint) = hint {
                    write!(f, "\nhint: {hint}")?;
                }
                Ok(())
            }
            Error::UnsupportedArch { arch } => write!(
                f,
                "no BPF target architecture (__TARGET_ARCH_*) for Rust architecture `{arch}`"
            ),
            Error::NoOutDir => write!(
                f,
                "OUT_DIR is not set: run from a build script or set Builder::out_dir"
            ),
            Error::Io { path, .. } => write!(f, "{}", path.display()),
            Error::Btf { path, reason } => write!(f, "BTF {}: {reason}", path.display()),
            Error::Skeleton { object, reason } => {
                write!(f, "skeleton of object `{object}`: {reason}")
            }
            Error::Types { reason } => write!(f, "generating Rust types: {reason}"),
        }
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::RunClang { source, .. } | Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
