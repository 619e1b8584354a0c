//! `lirc_mode2`: decodes infrared pulses/spaces of a LIRC device (`/dev/lircN`).

use std::os::fd::AsFd;

use bpf_sys::generated::bpf_attach_type;

use super::links::define_link_wrapper;
use super::prog_attach_link::ProgAttachLink;
use super::{DefaultLoad, ProgramData, ProgramError, impl_program_common};

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
#[derive(Debug)]
pub struct LircMode2 {
    pub(crate) data: ProgramData<LircLink>,
}

impl LircMode2 {
    pub(crate) fn new(data: ProgramData<LircLink>) -> Self {
        LircMode2 { data }
    }

    /// Loads the program (kernels without `CONFIG_BPF_LIRC_MODE2` refuse it with `EINVAL`).
    pub fn load(&mut self) -> Result<(), ProgramError> {
        self.data.load()
    }

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
            e => e,
        })?;
        Ok(self.data.links.insert(LircLink::new(inner)))
    }
}

impl DefaultLoad for LircMode2 {
    fn load_default(&mut self) -> Result<(), ProgramError> {
        self.load()
    }
}

impl_program_common!(LircMode2, LircLink);
