//! `lirc_mode2`: decodes infrared pulses/spaces of a LIRC device (`/dev/lircN`).

use std::os::fd::AsFd;

use bpf_sys::generated::bpf_attach_type;

use super::ProgramError;
use super::links::define_link_wrapper;
use super::prog_attach_link::ProgAttachLink;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A `lirc_mode2` attachment to a LIRC device.
    LircLink,
    LircLinkId,
    ProgAttachLink
);

/// A `lirc_mode2` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::LircMode2;
///
/// // SEC("lirc_mode2") int decode(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut LircMode2 = bpf.program_mut("decode").unwrap().try_into()?;
/// program.load()?;
/// let device = std::fs::File::open("/dev/lirc0")?;
/// program.attach(&device)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type LircMode2 = TypedProgram<LircMode2Kind>;

/// The kind of [`LircMode2`] programs.
#[derive(Debug)]
pub enum LircMode2Kind {}

impl ProgramKind for LircMode2Kind {
    type Link = LircLink;
}

impl LoadWithoutArguments for LircMode2Kind {}

impl LircMode2 {
    /// Attaches to the LIRC device `lirc` (an open `/dev/lircN`).
    ///
    /// A device runs several programs in turn; the same program twice is refused with
    /// [`ProgramError::AlreadyAttached`].
    pub fn attach(&mut self, lirc: impl AsFd) -> Result<LircLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let inner = ProgAttachLink::attach(
            prog_fd.as_fd(),
            lirc.as_fd(),
            bpf_attach_type::BPF_LIRC_MODE2,
            0,
        )
        .map_err(|e| match e {
            ProgramError::Syscall { source, .. } if source.errno() == Some(libc::EEXIST) => {
                ProgramError::AlreadyAttached {
                    program: self.data.name().to_owned(),
                    target: "the lirc device".to_owned(),
                    source: Some(source),
                }
            }
            e => e.of_program(self.data.name()),
        })?;
        Ok(self.data.links.insert(LircLink::new(inner)))
    }
}
