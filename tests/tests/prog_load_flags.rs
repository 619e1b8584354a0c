//! Program load flags: set per program or per object, merged with the section's, refused
//! with a typed error when the kernel does not know one.

use bpf_programs::programs::{ProgramError, ProgramLoadFlags, TestRunOptions};
use bpf_programs::{Bpf, BpfLoader};

const OBJECT: &[u8] = include_bytes!("../bpf/obj/prog_test_run.bpf.o");

/// A frame whose bytes 15..19 (the word the program reads) are not zero.
fn frame() -> [u8; 64] {
    let mut frame = [0u8; 64];
    frame[15..19].copy_from_slice(&[1, 2, 3, 4]);
    frame
}

#[test]
fn load_flags_strict_alignment_refuses_a_misaligned_packet_read() {
    // Without flags the word at offset 15 is read (x86-64 and arm64 allow unaligned access).
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = bpf.program_mut("misaligned_xdp").unwrap();
    program.load().unwrap();
    let out = program
        .test_run(TestRunOptions::new().data(&frame()))
        .unwrap();
    assert_eq!(out.return_value, 2, "XDP_PASS: the word was read");

    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = bpf.program_mut("misaligned_xdp").unwrap();
    program.set_load_flags(ProgramLoadFlags::STRICT_ALIGNMENT);
    let refused = program.load().unwrap_err();
    let ProgramError::Load {
        program, source, ..
    } = &refused
    else {
        panic!("expected a verifier refusal, got {refused:?}");
    };
    assert_eq!(program, "misaligned_xdp");
    assert_eq!(source.errno(), Some(libc::EACCES), "{refused}");
    assert!(
        source
            .verifier_log
            .text
            .contains("misaligned packet access"),
        "the verifier log says why: {}",
        source.verifier_log.text
    );

    // The same flag for the whole object; a program's own flags replace it.
    let mut bpf = BpfLoader::new()
        .load_flags(ProgramLoadFlags::STRICT_ALIGNMENT)
        .load(OBJECT)
        .unwrap();
    let program = bpf.program_mut("misaligned_xdp").unwrap();
    assert_eq!(program.load_flags(), ProgramLoadFlags::STRICT_ALIGNMENT);
    assert!(matches!(program.load(), Err(ProgramError::Load { .. })));
    program.set_load_flags(ProgramLoadFlags::empty());
    program.load().unwrap();
    // Aligned reads pass under strict alignment.
    let aligned = bpf.program_mut("run_xdp").unwrap();
    aligned.load().unwrap();
}

/// Loads `run_xdp` with `flags` and checks it still runs as without them.
fn load_and_run(flags: ProgramLoadFlags) {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = bpf.program_mut("run_xdp").unwrap();
    program.set_load_flags(flags);
    program
        .load()
        .unwrap_or_else(|e| panic!("{flags:?}: {}", integration_tests::error_chain(&e)));
    let mut frame = frame();
    frame[12] = 0x08;
    let out = program
        .test_run(TestRunOptions::new().data(&frame))
        .unwrap();
    assert_eq!(out.return_value, 3, "{flags:?}: XDP_TX");
}

#[test]
fn load_flags_for_verifier_tests_are_accepted() {
    for flags in [
        ProgramLoadFlags::TEST_RND_HI32,
        ProgramLoadFlags::ANY_ALIGNMENT,
        ProgramLoadFlags::TEST_STATE_FREQ,
        ProgramLoadFlags::STRICT_ALIGNMENT | ProgramLoadFlags::TEST_STATE_FREQ,
        ProgramLoadFlags::TEST_RND_HI32 | ProgramLoadFlags::TEST_STATE_FREQ,
    ] {
        load_and_run(flags);
    }
}

/// Whether the kernel knows `flag`, from a raw load of `r0 = 0; exit` with it: unknown flags
/// are refused with EINVAL before the verifier says anything.
fn kernel_knows(flag: u32) -> bool {
    let insns = [bpf_sys::insn::mov64_imm(0, 0), bpf_sys::insn::exit()];
    let result = bpf_sys::prog::prog_load(&bpf_sys::prog::ProgLoadAttr {
        prog_type: bpf_sys::generated::bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        license: "GPL",
        prog_flags: flag,
        ..Default::default()
    });
    !matches!(&result, Err(e) if e.errno() == Some(libc::EINVAL) && e.verifier_log.is_empty())
}

#[test]
fn load_flags_unknown_to_the_kernel_get_a_typed_error() {
    // BPF_F_TEST_REG_INVARIANTS came in Linux 6.7: known here, unknown to older guests.
    let flag = ProgramLoadFlags::TEST_REG_INVARIANTS;
    let known = kernel_knows(flag.bits());
    assert_eq!(bpf_programs::features::load_flag_known(flag.bits()), known);
    assert!(
        !bpf_programs::features::load_flag_known(1 << 30),
        "no such flag"
    );
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = bpf.program_mut("run_xdp").unwrap();
    program.set_load_flags(flag);
    match program.load() {
        Ok(()) => assert!(known, "loaded with a flag the kernel does not know"),
        Err(e @ ProgramError::LoadFlagNotSupported { .. }) => {
            assert!(!known, "refused a flag the kernel knows: {e}");
            assert_eq!(
                e.to_string(),
                "program `run_xdp`: not supported by this kernel: load flag \
                 BPF_F_TEST_REG_INVARIANTS"
            );
        }
        Err(e) => panic!("{}", integration_tests::error_chain(&e)),
    }
}
