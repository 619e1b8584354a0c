//! [`ProgramLoadFlags`]: the `prog_flags` of `BPF_PROG_LOAD` a user may ask for.

use bpf_sys::generated as uapi;

bitflags::bitflags! {
    /// Flags passed to the kernel when a program is loaded (`BPF_F_*` of `prog_flags`), set with
    /// `set_load_flags` on a program or [`BpfLoader::load_flags`](crate::BpfLoader::load_flags)
    /// for a whole object. They are added to what the section implies (`BPF_F_SLEEPABLE` for
    /// `.s` sections, `BPF_F_XDP_HAS_FRAGS` for `xdp.frags`). A flag the running kernel does
    /// not know makes the load fail with
    /// [`ProgramError::LoadFlagNotSupported`](crate::programs::ProgramError::LoadFlagNotSupported).
    ///
    /// ```no_run
    /// use bpf_programs::Bpf;
    /// use bpf_programs::programs::{ProgramLoadFlags, Xdp};
    ///
    /// let mut bpf = Bpf::load_file("prog.bpf.o")?;
    /// let program: &mut Xdp = bpf.program_mut("parse").unwrap().try_into()?;
    /// // Refused where an access is not aligned, even on architectures that tolerate it.
    /// program.set_load_flags(ProgramLoadFlags::STRICT_ALIGNMENT);
    /// program.load()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ProgramLoadFlags: u32 {
        /// `BPF_F_STRICT_ALIGNMENT`: check alignment as on an architecture without efficient
        /// unaligned access.
        const STRICT_ALIGNMENT = uapi::BPF_F_STRICT_ALIGNMENT;
        /// `BPF_F_ANY_ALIGNMENT`: accept any alignment, even where the architecture needs it
        /// (a test aid).
        const ANY_ALIGNMENT = uapi::BPF_F_ANY_ALIGNMENT;
        /// `BPF_F_TEST_RND_HI32`: the verifier fills the upper halves of 32-bit subregisters
        /// with random values, exposing code that relies on zero extension.
        const TEST_RND_HI32 = uapi::BPF_F_TEST_RND_HI32;
        /// `BPF_F_TEST_STATE_FREQ`: the verifier checkpoints states far more often.
        const TEST_STATE_FREQ = uapi::BPF_F_TEST_STATE_FREQ;
        /// `BPF_F_SLEEPABLE`: the program may sleep (the `.s` sections set it).
        const SLEEPABLE = uapi::BPF_F_SLEEPABLE;
        /// `BPF_F_XDP_HAS_FRAGS`: an XDP program that handles multi-buffer packets.
        const XDP_HAS_FRAGS = uapi::BPF_F_XDP_HAS_FRAGS;
        /// `BPF_F_TEST_REG_INVARIANTS`: the verifier fails the load when its register bounds
        /// become inconsistent instead of carrying on.
        const TEST_REG_INVARIANTS = uapi::BPF_F_TEST_REG_INVARIANTS;
    }
}

impl ProgramLoadFlags {
    /// The kernel's name of a single flag (`BPF_F_STRICT_ALIGNMENT`), for messages.
    pub fn kernel_name(self) -> &'static str {
        const NAMES: [(ProgramLoadFlags, &str); 7] = [
            (ProgramLoadFlags::STRICT_ALIGNMENT, "BPF_F_STRICT_ALIGNMENT"),
            (ProgramLoadFlags::ANY_ALIGNMENT, "BPF_F_ANY_ALIGNMENT"),
            (ProgramLoadFlags::TEST_RND_HI32, "BPF_F_TEST_RND_HI32"),
            (ProgramLoadFlags::TEST_STATE_FREQ, "BPF_F_TEST_STATE_FREQ"),
            (ProgramLoadFlags::SLEEPABLE, "BPF_F_SLEEPABLE"),
            (ProgramLoadFlags::XDP_HAS_FRAGS, "BPF_F_XDP_HAS_FRAGS"),
            (
                ProgramLoadFlags::TEST_REG_INVARIANTS,
                "BPF_F_TEST_REG_INVARIANTS",
            ),
        ];
        NAMES
            .iter()
            .find(|(flag, _)| *flag == self)
            .map_or("a combination of load flags", |(_, name)| name)
    }

    /// The flags a section implies (`.s` sections are sleepable, `xdp.frags` has frags).
    pub(crate) fn implied_by(section: &bpf_core::obj::ProgramSection) -> ProgramLoadFlags {
        let mut flags = ProgramLoadFlags::empty();
        flags.set(ProgramLoadFlags::SLEEPABLE, section.sleepable());
        flags.set(ProgramLoadFlags::XDP_HAS_FRAGS, section.xdp_frags());
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_cover_every_flag() {
        for flag in ProgramLoadFlags::all().iter() {
            assert!(flag.kernel_name().starts_with("BPF_F_"), "{flag:?}");
        }
    }

    #[test]
    fn sections_imply_their_flags() {
        use bpf_core::obj::ProgramSection;
        let xdp = ProgramSection::parse("xdp.frags");
        assert_eq!(
            ProgramLoadFlags::implied_by(&xdp),
            ProgramLoadFlags::XDP_HAS_FRAGS
        );
        let filter = ProgramSection::parse("socket");
        assert!(ProgramLoadFlags::implied_by(&filter).is_empty());
    }
}
