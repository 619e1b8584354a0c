//! The kernel filesystems BPF work needs: tracefs (tracepoint ids, kprobe and uprobe events,
//! `trace_pipe`) and the BPF filesystem (pins). Each is looked for at its standard place and,
//! when missing there, mounted there if this process may, as perf does for tracefs and bpftool
//! for bpffs; otherwise the error names what is missing and the command that fixes it.
//!
//! Nothing is cached: a path resolves in the calling thread's mount namespace, which can differ
//! between threads, and the check is one `statfs(2)`.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Mutex;

use bpf_sys::mount::{BPF_FS_MAGIC, TRACEFS_MAGIC, filesystem_magic, mount};

/// Where tracefs is mounted on current systems.
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// Where debugfs exposes tracefs (the only place before Linux 4.1).
pub const TRACEFS_UNDER_DEBUGFS: &str = "/sys/kernel/debug/tracing";
/// Where the BPF filesystem is mounted by convention (libbpf's and bpftool's default).
pub const BPFFS: &str = "/sys/fs/bpf";

/// One of the kernel filesystems this module finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelFs {
    /// tracefs.
    Tracefs,
    /// The BPF filesystem.
    Bpffs,
}

impl KernelFs {
    fn magic(self) -> u32 {
        match self {
            KernelFs::Tracefs => TRACEFS_MAGIC,
            KernelFs::Bpffs => BPF_FS_MAGIC,
        }
    }

    fn fstype(self) -> &'static str {
        match self {
            KernelFs::Tracefs => "tracefs",
            KernelFs::Bpffs => "bpf",
        }
    }

    /// Where it is mounted when this module mounts it.
    pub fn standard_path(self) -> &'static Path {
        Path::new(match self {
            KernelFs::Tracefs => TRACEFS,
            KernelFs::Bpffs => BPFFS,
        })
    }

    fn mount_options(self) -> Option<&'static str> {
        match self {
            KernelFs::Tracefs => None,
            // Pins are the owner's business, as bpftool mounts it.
            KernelFs::Bpffs => Some("mode=0700"),
        }
    }

    /// The shell command that mounts it at its standard place.
    pub fn mount_command(self) -> String {
        let fstype = self.fstype();
        let path = self.standard_path().display();
        match self.mount_options() {
            Some(options) => format!("mount -t {fstype} -o {options} {fstype} {path}"),
            None => format!("mount -t {fstype} {fstype} {path}"),
        }
    }
}

impl fmt::Display for KernelFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KernelFs::Tracefs => "tracefs",
            KernelFs::Bpffs => "the BPF filesystem (bpffs)",
        })
    }
}

/// A kernel filesystem is not mounted and could not be mounted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KernelFsError {
    /// Not mounted at its standard place, and mounting it there failed (usually: the process
    /// lacks CAP_SYS_ADMIN in its mount namespace).
    #[error(
        "{fs} is not mounted at {} and this process could not mount it there; as root, run: {command}",
        path.display()
    )]
    NotMounted {
        /// Which filesystem.
        fs: KernelFs,
        /// Where it was looked for and mounting was tried.
        path: &'static Path,
        /// The command that mounts it.
        command: String,
        /// Why mounting failed.
        #[source]
        source: io::Error,
    },
    /// The directory of a pin under `/sys/fs/bpf` could not be created.
    #[error("creating the pin directory {}", path.display())]
    PinDirectory {
        /// The directory.
        path: std::path::PathBuf,
        /// Why creating it failed.
        #[source]
        source: io::Error,
    },
    /// The kernel does not know the filesystem type (built without it).
    #[error("this kernel has no {fs} (mounting it reports an unknown filesystem type)")]
    NotInKernel {
        /// Which filesystem.
        fs: KernelFs,
        /// The mount failure.
        #[source]
        source: io::Error,
    },
}

/// Whether `path` is the root of (or inside) a filesystem of kind `fs`.
fn is_on(fs: KernelFs, path: &Path) -> bool {
    filesystem_magic(path).is_ok_and(|magic| magic == fs.magic())
}

/// Whether `path` lies on a BPF filesystem (where pins can be made).
pub fn is_on_bpffs(path: &Path) -> bool {
    is_on(KernelFs::Bpffs, path)
}

/// The directory of a pin at `path`, if it exists and is not on a BPF filesystem: why the
/// kernel refused the pin.
pub(crate) fn pin_directory_outside_bpffs(path: &Path) -> Option<&Path> {
    let directory = path
        .parent()
        .filter(|directory| !directory.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    (directory.exists() && !is_on_bpffs(directory)).then_some(directory)
}

/// Serialises check-then-mount within the process, so threads do not stack mounts.
static MOUNTING: Mutex<()> = Mutex::new(());

/// Mounts `fs` at its standard place unless it already is there.
fn mount_standard(fs: KernelFs) -> Result<&'static Path, KernelFsError> {
    let path = fs.standard_path();
    let _guard = MOUNTING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if is_on(fs, path) {
        return Ok(path);
    }
    match mount(fs.fstype(), path, fs.mount_options()) {
        Ok(()) => {
            log::info!("mounted {fs} at {}", path.display());
            Ok(path)
        }
        Err(source) if source.raw_os_error() == Some(libc::ENODEV) => {
            Err(KernelFsError::NotInKernel { fs, source })
        }
        Err(source) => Err(KernelFsError::NotMounted {
            fs,
            path,
            command: fs.mount_command(),
            source,
        }),
    }
}

/// Where tracefs is mounted: `/sys/kernel/tracing`, else debugfs' `tracing` directory, else
/// tracefs freshly mounted at `/sys/kernel/tracing`.
pub fn tracefs() -> Result<&'static Path, KernelFsError> {
    for root in [TRACEFS, TRACEFS_UNDER_DEBUGFS] {
        let root = Path::new(root);
        if is_on(KernelFs::Tracefs, root) {
            return Ok(root);
        }
    }
    mount_standard(KernelFs::Tracefs)
}

/// The BPF filesystem at `/sys/fs/bpf`, mounted there first if it is not.
pub fn bpffs() -> Result<&'static Path, KernelFsError> {
    let path = KernelFs::Bpffs.standard_path();
    if is_on_bpffs(path) {
        return Ok(path);
    }
    mount_standard(KernelFs::Bpffs)
}

/// Makes sure a pin at `path` can be made: a path under `/sys/fs/bpf` needs bpffs mounted
/// there, and its directory is created if missing (as libbpf does). Paths elsewhere are the
/// caller's business (the kernel refuses pins outside a bpffs).
pub fn prepare_pin(path: &Path) -> Result<(), KernelFsError> {
    if !path.starts_with(BPFFS) {
        return Ok(());
    }
    bpffs()?;
    match path.parent() {
        Some(directory) if !directory.exists() => {
            std::fs::create_dir_all(directory).map_err(|source| KernelFsError::PinDirectory {
                path: directory.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_commands_name_type_and_place() {
        assert_eq!(
            KernelFs::Tracefs.mount_command(),
            "mount -t tracefs tracefs /sys/kernel/tracing"
        );
        assert_eq!(
            KernelFs::Bpffs.mount_command(),
            "mount -t bpf -o mode=0700 bpf /sys/fs/bpf"
        );
    }

    #[test]
    fn not_mounted_says_what_and_how_without_repeating_the_cause() {
        let error = KernelFsError::NotMounted {
            fs: KernelFs::Tracefs,
            path: KernelFs::Tracefs.standard_path(),
            command: KernelFs::Tracefs.mount_command(),
            source: io::Error::from_raw_os_error(libc::EPERM),
        };
        let text = error.to_string();
        assert!(
            text.contains("tracefs is not mounted at /sys/kernel/tracing"),
            "{text}"
        );
        assert!(
            text.contains("mount -t tracefs tracefs /sys/kernel/tracing"),
            "{text}"
        );
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(!text.contains(&cause), "{text} repeats {cause}");
    }

    #[test]
    fn procfs_is_neither() {
        assert!(!is_on(KernelFs::Tracefs, Path::new("/proc")));
        assert!(!is_on_bpffs(Path::new("/proc")));
    }
}
