//! The guest's architecture and what differs with it: the Rust target the tests are built for,
//! the qemu that boots it, its console, and where a foreign architecture's libraries, loader and
//! static busybox come from (Debian's cross toolchain and arm64 packages).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestArch {
    X86_64,
    Aarch64,
}

impl GuestArch {
    /// What a kernel configuration says it was built for; `None` when it says neither.
    pub fn from_config(config: &str) -> Option<GuestArch> {
        config.lines().find_map(|line| match line {
            "CONFIG_X86_64=y" => Some(GuestArch::X86_64),
            "CONFIG_ARM64=y" => Some(GuestArch::Aarch64),
            _ => None,
        })
    }

    /// The machine xtask runs on.
    pub fn host() -> Option<GuestArch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(GuestArch::X86_64),
            "aarch64" => Some(GuestArch::Aarch64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "x86_64",
            GuestArch::Aarch64 => "aarch64",
        }
    }

    /// Debian's name for it (`dpkg --print-architecture`).
    pub fn debian(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "amd64",
            GuestArch::Aarch64 => "arm64",
        }
    }

    pub fn rust_target(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "x86_64-unknown-linux-gnu",
            GuestArch::Aarch64 => "aarch64-unknown-linux-gnu",
        }
    }

    pub fn is_host(self) -> bool {
        GuestArch::host() == Some(self)
    }

    /// The C compiler driver that links for this target when it is not the host (Debian's
    /// `gcc-<triple>` cross compiler).
    pub fn cross_linker(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "x86_64-linux-gnu-gcc",
            GuestArch::Aarch64 => "aarch64-linux-gnu-gcc",
        }
    }

    /// Where Debian's cross toolchain keeps this target's libc, loader and libgcc
    /// (`libc6-<arch>-cross`).
    pub fn cross_sysroot(self) -> PathBuf {
        PathBuf::from(match self {
            GuestArch::X86_64 => "/usr/x86_64-linux-gnu",
            GuestArch::Aarch64 => "/usr/aarch64-linux-gnu",
        })
    }

    /// qemu's user-mode emulator, which runs a foreign test binary's `--list` on the host.
    pub fn user_emulator(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "qemu-x86_64",
            GuestArch::Aarch64 => "qemu-aarch64",
        }
    }

    pub fn qemu(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "qemu-system-x86_64",
            GuestArch::Aarch64 => "qemu-system-aarch64",
        }
    }

    /// The Debian package that has [`Self::qemu`].
    pub fn qemu_package(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "qemu-system-x86",
            GuestArch::Aarch64 => "qemu-system-arm",
        }
    }

    /// The machine qemu emulates: the PC default, or the generic `virt` board with the most
    /// capable CPU model (pointer authentication computed the cheap way: under TCG the
    /// architected algorithm costs a large share of the run).
    pub fn machine_args(self) -> &'static [&'static str] {
        match self {
            GuestArch::X86_64 => &[],
            GuestArch::Aarch64 => &["-M", "virt", "-cpu", "max,pauth-impdef=on"],
        }
    }

    /// The serial console's device name in the guest.
    pub fn console(self) -> &'static str {
        match self {
            GuestArch::X86_64 => "ttyS0",
            GuestArch::Aarch64 => "ttyAMA0",
        }
    }
}

/// The architecture a kernel image was built for, from the `config-<release>` beside it; the
/// host's when there is none.
pub fn of_kernel(kernel: &Path, release: &str) -> Option<GuestArch> {
    let config = kernel.with_file_name(format!("config-{release}"));
    std::fs::read_to_string(config)
        .ok()
        .and_then(|text| GuestArch::from_config(&text))
        .or_else(GuestArch::host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_name_their_architecture() {
        assert_eq!(
            GuestArch::from_config("# x\nCONFIG_64BIT=y\nCONFIG_ARM64=y\n"),
            Some(GuestArch::Aarch64)
        );
        assert_eq!(
            GuestArch::from_config("CONFIG_X86_64=y\n"),
            Some(GuestArch::X86_64)
        );
        assert_eq!(GuestArch::from_config("CONFIG_ARM64_4K_PAGES=y\n"), None);
        assert_eq!(
            of_kernel(Path::new("/nonexistent/vmlinuz-1"), "1"),
            GuestArch::host()
        );
    }
}
