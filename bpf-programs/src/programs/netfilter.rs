//! `netfilter`: a netfilter hook (like an nftables base chain) of the calling thread's network
//! namespace; the program returns `NF_ACCEPT` or `NF_DROP`.

use std::os::fd::AsFd;

use bpf_sys::generated::{BPF_F_NETFILTER_IP_DEFRAG, bpf_attach_type};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};

use super::ProgramError;
pub use super::attach_options::{NetfilterAttachOptions, NetfilterFamily, NetfilterHook};
use super::links::{FdLink, define_link_wrapper};
pub use super::type_errors::NetfilterError;
use super::typed_program::{LoadWithoutArguments, ProgramKind, TypedProgram};

define_link_wrapper!(
    /// A netfilter hook attachment.
    NetfilterLink,
    NetfilterLinkId,
    FdLink
);

/// A `netfilter` program.
///
/// # Example
///
/// ```no_run
/// use bpf_programs::Bpf;
/// use bpf_programs::programs::Netfilter;
/// use bpf_programs::programs::{NetfilterAttachOptions, NetfilterFamily, NetfilterHook};
///
/// // SEC("netfilter") int local_in(...) in prog.bpf.o
/// let mut bpf = Bpf::load_file("prog.bpf.o")?;
/// let program: &mut Netfilter = bpf.program_mut("local_in").unwrap().try_into()?;
/// program.load()?;
/// program.attach(NetfilterAttachOptions {
///     family: NetfilterFamily::Ipv4,
///     hook: NetfilterHook::LocalIn,
///     priority: -128,
///     defrag: false,
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Netfilter = TypedProgram<NetfilterKind>;

/// The kind of [`Netfilter`] programs.
#[derive(Debug)]
pub enum NetfilterKind {}

impl ProgramKind for NetfilterKind {
    type Link = NetfilterLink;
}

impl LoadWithoutArguments for NetfilterKind {}

impl Netfilter {
    /// Hooks the program in the calling thread's network namespace.
    ///
    /// Netfilter keeps one BPF program per hook and priority: a second attach there (this
    /// program or another) is refused with [`ProgramError::AttachPointBusy`]; use another
    /// priority to run several.
    pub fn attach(
        &mut self,
        options: NetfilterAttachOptions,
    ) -> Result<NetfilterLinkId, ProgramError> {
        let prog_fd = self.data.fd()?;
        let fd = link_create(&LinkCreateAttr {
            prog_fd: prog_fd.as_fd(),
            target: LinkTarget::None,
            attach_type: bpf_attach_type::BPF_NETFILTER,
            flags: 0,
            kind: LinkKind::Netfilter {
                pf: options.family.raw(),
                hooknum: options.hook.raw(),
                priority: options.priority,
                flags: if options.defrag {
                    BPF_F_NETFILTER_IP_DEFRAG
                } else {
                    0
                },
            },
        })
        .map_err(|source| -> ProgramError {
            if source.errno() == Some(libc::EBUSY) {
                return ProgramError::AttachPointBusy {
                    program: self.data.name().to_owned(),
                    target: format!(
                        "netfilter hook {:?}/{:?} at priority {}",
                        options.family, options.hook, options.priority
                    ),
                    occupant: "a BPF program".to_owned(),
                    source: Some(source),
                };
            }
            NetfilterError::Attach {
                program: self.data.name().to_owned(),
                options,
                source,
            }
            .into()
        })?;
        Ok(self.data.links.insert(NetfilterLink::new(FdLink::new(fd))))
    }
}
