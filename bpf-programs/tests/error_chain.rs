//! Errors print as a chain: each level's `Display` says only what that level adds, so no level's
//! text contains its `source()`'s text. Representative errors of every layer are walked, those
//! the loader makes from bad input and those built around kernel refusals.

use std::error::Error;
use std::io;
use std::path::PathBuf;

use bpf_core::btf::BtfError;
use bpf_core::btf::core::CoreError;
use bpf_core::obj::ParseError;
use bpf_core::relocation::{RelocationError, RelocationErrorKind};
use bpf_programs::kernel::fs::{KernelFs, KernelFsError};
use bpf_programs::kernel::permission::{Cause, Operation, PermissionHint};
use bpf_programs::maps::MapError;
use bpf_programs::programs::{KProbeError, ProgramError, RejectedInstruction, TracePointError};
use bpf_programs::struct_ops::StructOpsError;
use bpf_programs::{Bpf, BpfError, BpfLoader};
use bpf_sys::{BpfCommand, Command, LoadError, SyscallError, VerifierLog};

/// A committed test object with globals.
const DEMO: &[u8] = include_bytes!("../../tests/bpf/obj/parse_globals.bpf.o");

/// Every level of `error`'s chain, as displayed.
fn levels(error: &dyn Error) -> Vec<String> {
    let mut levels = vec![error.to_string()];
    let mut next = error.source();
    while let Some(source) = next {
        levels.push(source.to_string());
        next = source.source();
    }
    levels
}

/// Fails when a level repeats its source's text; returns how many levels there are.
fn assert_no_level_repeats_its_source(error: &dyn Error) -> usize {
    let levels = levels(error);
    for pair in levels.windows(2) {
        assert!(
            !pair[0].contains(pair[1].as_str()),
            "level {:?} repeats its source {:?}\nwhole chain: {levels:#?}",
            pair[0],
            pair[1]
        );
    }
    levels.len()
}

fn eperm(command: BpfCommand) -> SyscallError {
    SyscallError::from_errno(command, libc::EPERM)
}

fn load_error() -> LoadError {
    LoadError {
        command: Command::Bpf(BpfCommand::ProgLoad),
        io_error: io::Error::from_raw_os_error(libc::EACCES),
        verifier_log: VerifierLog {
            text: "0: (b7) r0 = 0\n1: (95) exit\nR0 !read_ok".to_owned(),
            truncated: false,
        },
    }
}

fn hint() -> PermissionHint {
    PermissionHint {
        operation: Operation::CreateMap {
            map_type: bpf_sys::generated::bpf_map_type::BPF_MAP_TYPE_ARENA,
        },
        causes: vec![Cause::NothingMissing],
    }
}

#[test]
fn loader_errors_from_bad_input() {
    let garbage = Bpf::load(b"not an ELF file").unwrap_err();
    assert!(matches!(garbage, BpfError::Parse(_)), "{garbage:?}");
    assert_eq!(assert_no_level_repeats_its_source(&garbage), 2);

    let missing = Bpf::load_file("/nonexistent/object.bpf.o").unwrap_err();
    assert!(matches!(missing, BpfError::Read { .. }), "{missing:?}");
    assert_eq!(assert_no_level_repeats_its_source(&missing), 2);

    let global = BpfLoader::new()
        .set_global("no_such_variable", &1u32)
        .load(DEMO)
        .unwrap_err();
    assert!(matches!(global, BpfError::SetGlobal { .. }), "{global:?}");
    // The source names the variable, so the loader's error displays as it does.
    assert_eq!(assert_no_level_repeats_its_source(&global), 1);
    assert!(
        global.to_string().contains("`no_such_variable`"),
        "{global}"
    );
}

#[test]
fn map_errors() {
    let denied = BpfError::Map {
        name: "arena".to_owned(),
        source: MapError::PermissionDenied {
            name: "arena".to_owned(),
            hint: Box::new(hint()),
            source: eperm(BpfCommand::MapCreate),
        },
    };
    assert_eq!(assert_no_level_repeats_its_source(&denied), 2);
    let chain = levels(&denied);
    assert!(chain[0].contains("permission denied"), "{chain:?}");
    assert_eq!(
        chain.iter().filter(|l| l.contains("`arena`")).count(),
        1,
        "{chain:?}"
    );

    let syscall = MapError::Syscall {
        name: "counts".to_owned(),
        source: eperm(BpfCommand::MapUpdateElem),
    };
    assert_eq!(assert_no_level_repeats_its_source(&syscall), 2);

    let pin = MapError::PinFilesystem {
        name: "pinned".to_owned(),
        path: PathBuf::from("/sys/fs/bpf/pinned"),
        source: Box::new(KernelFsError::NotMounted {
            fs: KernelFs::Bpffs,
            path: KernelFs::Bpffs.standard_path(),
            command: KernelFs::Bpffs.mount_command(),
            source: io::Error::from_raw_os_error(libc::EPERM),
        }),
    };
    assert_eq!(assert_no_level_repeats_its_source(&pin), 3);
}

#[test]
fn program_errors() {
    let load = ProgramError::Load {
        program: "handler".to_owned(),
        source: load_error(),
        unsatisfied_core: String::new(),
        // The submitted instructions around the refused one: the program, not the log.
        rejected: Some(Box::new(RejectedInstruction {
            index: 1,
            context: "  0: (b7) r0 = 0\n> 1: (95) exit\n".to_owned(),
        })),
    };
    assert_eq!(assert_no_level_repeats_its_source(&load), 2);
    assert!(
        levels(&load)[1].contains("R0 !read_ok"),
        "the log is in the chain"
    );

    let denied = ProgramError::PermissionDenied {
        hint: hint(),
        source: Box::new(load),
    };
    assert_eq!(assert_no_level_repeats_its_source(&denied), 3);
    assert!(denied.verifier_log().is_some());
    assert_eq!(denied.errno(), Some(libc::EACCES));

    let syscall = ProgramError::ProgramSyscall {
        program: "handler".to_owned(),
        what: "perf_event_open (tracepoint)",
        source: SyscallError::from_errno(Command::PerfEventOpen, libc::EACCES),
    };
    assert_eq!(assert_no_level_repeats_its_source(&syscall), 2);

    let relocation = ProgramError::Relocation {
        program: "handler".to_owned(),
        source: Box::new(RelocationError {
            program: "handler".to_owned(),
            function: "helper".to_owned(),
            insn: 3,
            symbol: "missing".to_owned(),
            kind: RelocationErrorKind::UnresolvedExtern,
        }),
    };
    assert_eq!(assert_no_level_repeats_its_source(&relocation), 2);
    let chain = levels(&relocation);
    assert_eq!(
        chain.iter().filter(|l| l.contains("`handler`")).count(),
        1,
        "{chain:?}"
    );

    let tracefs = ProgramError::from(TracePointError::TraceFs {
        program: "on_exec".to_owned(),
        category: "sched".to_owned(),
        name: "sched_process_exec".to_owned(),
        source: KernelFsError::NotMounted {
            fs: KernelFs::Tracefs,
            path: KernelFs::Tracefs.standard_path(),
            command: KernelFs::Tracefs.mount_command(),
            source: io::Error::from_raw_os_error(libc::EPERM),
        },
    });
    assert_eq!(assert_no_level_repeats_its_source(&tracefs), 3);
    assert!(
        levels(&tracefs)[0].contains("`on_exec`"),
        "{:?}",
        levels(&tracefs)
    );

    let kprobe = ProgramError::from(KProbeError::Attach {
        program: "on_unlink".to_owned(),
        function: "do_unlinkat".to_owned(),
        offset: 0,
        source: SyscallError::from_errno(Command::PerfEventOpen, libc::ENOENT),
    });
    assert_eq!(assert_no_level_repeats_its_source(&kprobe), 2);

    let struct_ops = StructOpsError::ProgramLoad {
        map: "ops".to_owned(),
        program: "handler".to_owned(),
        source: Box::new(ProgramError::Load {
            program: "handler".to_owned(),
            source: load_error(),
            unsatisfied_core: String::new(),
            rejected: None,
        }),
    };
    assert_eq!(assert_no_level_repeats_its_source(&struct_ops), 3);
}

#[test]
fn core_errors() {
    let btf = ParseError::InvalidBtf(BtfError::BadVersion(7));
    assert_eq!(assert_no_level_repeats_its_source(&btf), 2);

    let core = CoreError::Btf {
        insn: 4,
        kind: "field_byte_offset",
        source: BtfError::BadVersion(7),
    };
    assert_eq!(assert_no_level_repeats_its_source(&core), 2);
}
