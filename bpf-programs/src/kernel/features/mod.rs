//! Kernel feature probes: tiny loads or link attempts, each run at most once per process and
//! only when a load or attach needs its answer. The kernel version string is never consulted.

mod btf;
mod kernel_enum;
mod probe;

pub use btf::{btf, btf_features};
pub(crate) use kernel_enum::{kernel_knows_map_type, kernel_knows_prog_type};
pub use probe::{Support, probe_attach_type, probe_helper, probe_map_type, probe_program_type};

use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;

use bpf_sys::generated::{bpf_attach_type, bpf_prog_type};
use bpf_sys::insn::{exit, mov64_imm};
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create};
use bpf_sys::prog::{ProgLoadAttr, prog_load};

/// Loads `mov r0, 0; exit` as `prog_type`, for probes that need some program.
fn trivial_program(
    prog_type: bpf_prog_type::Type,
    expected_attach_type: bpf_attach_type::Type,
) -> Option<OwnedFd> {
    let insns = [mov64_imm(0, 0), exit()];
    prog_load(&ProgLoadAttr {
        prog_type,
        expected_attach_type,
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .ok()
}

/// Whether `BPF_LINK_CREATE` accepts perf events (`BPF_PERF_EVENT`, Linux 5.15).
pub fn perf_link() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let Some(prog) = trivial_program(bpf_prog_type::BPF_PROG_TYPE_TRACEPOINT, 0) else {
            return false;
        };
        // The program fd is not a perf event: kernels with perf links answer EBADF, older EINVAL.
        let result = link_create(&LinkCreateAttr {
            prog_fd: prog.as_fd(),
            target: LinkTarget::Fd(prog.as_fd()),
            attach_type: bpf_attach_type::BPF_PERF_EVENT,
            flags: 0,
            kind: LinkKind::PerfEvent { bpf_cookie: 0 },
        });
        let supported = matches!(&result, Err(e) if e.errno() == Some(libc::EBADF));
        log::debug!("feature probe: perf event bpf_link supported: {supported}");
        supported
    })
}

/// Whether the kernel accepts program names (Linux 4.15).
pub fn prog_name() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let insns = [mov64_imm(0, 0), exit()];
        let supported = prog_load(&ProgLoadAttr {
            prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
            name: "probe_name",
            insns: &insns,
            license: "GPL",
            ..Default::default()
        })
        .is_ok();
        log::debug!("feature probe: program names supported: {supported}");
        supported
    })
}

/// Whether `BPF_LINK_CREATE` knows kprobe.multi (Linux 5.18), though it may still refuse it
/// for want of fprobe (`EOPNOTSUPP` at attach time).
pub fn kprobe_multi_link() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let Some(prog) = trivial_program(
            bpf_prog_type::BPF_PROG_TYPE_KPROBE,
            bpf_attach_type::BPF_TRACE_KPROBE_MULTI,
        ) else {
            return false;
        };
        // No such symbol: kernels with kprobe.multi look it up (ENOENT/ESRCH) or lack fprobe
        // (EOPNOTSUPP); older ones do not know the attach type (EINVAL).
        let name = c"bpf_programs_feature_probe_no_such_symbol";
        let result = link_create(&LinkCreateAttr {
            prog_fd: prog.as_fd(),
            target: LinkTarget::None,
            attach_type: bpf_attach_type::BPF_TRACE_KPROBE_MULTI,
            flags: 0,
            kind: LinkKind::KprobeMulti {
                flags: 0,
                syms: &[name],
                addrs: &[],
                cookies: &[],
            },
        });
        let supported = matches!(&result, Err(e)
            if matches!(e.errno(), Some(libc::ENOENT | libc::ESRCH | libc::EOPNOTSUPP)));
        log::debug!("feature probe: kprobe.multi link known: {supported} ({result:?})");
        supported
    })
}

/// Whether the kernel knows the `BPF_PROG_LOAD` flag `flag` (one `BPF_F_*` bit of `prog_flags`).
/// A kernel refuses unknown flags with EINVAL before the verifier runs; a known flag that does
/// not fit the probe's program (sleepable socket filter) is refused by the verifier, with a log.
pub fn load_flag_known(flag: u32) -> bool {
    static CACHE: [OnceLock<bool>; 32] = [const { OnceLock::new() }; 32];
    let Some(cache) = CACHE.get(flag.trailing_zeros() as usize) else {
        return false;
    };
    *cache.get_or_init(|| {
        let insns = [mov64_imm(0, 0), exit()];
        let result = prog_load(&ProgLoadAttr {
            prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
            insns: &insns,
            license: "GPL",
            prog_flags: flag,
            ..Default::default()
        });
        let known = match &result {
            Ok(_) => true,
            Err(e) => e.errno() != Some(libc::EINVAL) || !e.verifier_log.is_empty(),
        };
        log::debug!("feature probe: load flag {flag:#x} known: {known} ({result:?})");
        known
    })
}

/// Whether `BPF_LINK_CREATE` takes uprobe.multi (Linux 6.6).
pub fn uprobe_multi_link() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let Some(prog) = trivial_program(
            bpf_prog_type::BPF_PROG_TYPE_KPROBE,
            bpf_attach_type::BPF_TRACE_UPROBE_MULTI,
        ) else {
            return false;
        };
        // "/" is not a regular file: kernels with uprobe.multi answer EBADF, older ones EINVAL.
        let offsets = [0u64];
        let result = link_create(&LinkCreateAttr {
            prog_fd: prog.as_fd(),
            target: LinkTarget::None,
            attach_type: bpf_attach_type::BPF_TRACE_UPROBE_MULTI,
            flags: 0,
            kind: LinkKind::UprobeMulti {
                path: std::path::Path::new("/"),
                offsets: &offsets,
                ref_ctr_offsets: &[],
                cookies: &[],
                flags: 0,
                pid: 0,
            },
        });
        let supported = matches!(&result, Err(e) if e.errno() == Some(libc::EBADF));
        log::debug!("feature probe: uprobe.multi link supported: {supported} ({result:?})");
        supported
    })
}

/// Whether the kernel loads BPF trampoline programs (fentry and friends). Some kernels refuse
/// them with EPERM before the verifier runs, whatever the caller's privileges; this loads an
/// empty fentry program to tell that apart from a program of the caller's that EPERM refused.
pub fn trampolines() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let target = ["bpf_fentry_test1", "do_nanosleep", "schedule"]
            .iter()
            .find_map(|name| {
                crate::kernel::btf::find_in_vmlinux(name, bpf_core::btf::BtfKind::Func)
                    .ok()
                    .flatten()
            });
        let Some(attach_btf_id) = target else {
            return true;
        };
        let insns = [mov64_imm(0, 0), exit()];
        let result = prog_load(&ProgLoadAttr {
            prog_type: bpf_prog_type::BPF_PROG_TYPE_TRACING,
            expected_attach_type: bpf_attach_type::BPF_TRACE_FENTRY,
            attach_btf_id,
            insns: &insns,
            license: "GPL",
            ..Default::default()
        });
        let supported = !matches!(&result, Err(e) if e.errno() == Some(libc::EPERM));
        log::debug!("feature probe: BPF trampolines load: {supported} ({result:?})");
        supported
    })
}
