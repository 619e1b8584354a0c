//! Syscall programs: run under BPF_PROG_TEST_RUN, reading and writing their context.

use bpf_programs::Bpf;
use bpf_programs::programs::Syscall;

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_syscall.bpf.o");

#[test]
fn syscall_program_runs_with_context() {
    if !integration_tests::kernel_btf_has_name("BPF_PROG_TYPE_SYSCALL") {
        integration_tests::skip(
            "prog_syscall::syscall_program_runs_with_context",
            "the kernel has no syscall programs (no BPF_PROG_TYPE_SYSCALL in its BTF)",
        );
        return;
    }
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program: &mut Syscall = bpf.program_mut("multiply").unwrap().try_into().unwrap();
    program.load().unwrap();
    let mut ctx = [0u8; 16];
    ctx[..4].copy_from_slice(&6u32.to_ne_bytes());
    ctx[4..8].copy_from_slice(&7u32.to_ne_bytes());
    assert_eq!(program.run(&ctx).unwrap(), 13);
    ctx[4..8].copy_from_slice(&30u32.to_ne_bytes());
    assert_eq!(program.run(&ctx).unwrap(), 36);
    let info = program.info().unwrap();
    assert_eq!(
        info.program_type(),
        bpf_sys::generated::bpf_prog_type::BPF_PROG_TYPE_SYSCALL
    );
}
