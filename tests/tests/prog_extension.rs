//! freplace: replace a global function of a loaded syscall program and see its result change.

use std::os::fd::AsFd;

use bpf_programs::Bpf;
use bpf_programs::programs::{Extension, ExtensionError, ProgramError, Syscall};
use integration_tests::{skip, skipped_unsupported};

const OBJECT: &[u8] = include_bytes!("../bpf/obj/prog_extension.bpf.o");

#[test]
fn extension_replaces_function() {
    let test = "prog_extension::extension_replaces_function";
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let mut target: Syscall = bpf.take_program("run_compute").unwrap().try_into().unwrap();
    target.load().unwrap();
    let ctx = 5u32.to_ne_bytes();
    assert_eq!(target.run(&ctx).unwrap(), 6);

    let extension: &mut Extension = bpf
        .program_mut("compute_replaced")
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(extension.section_function(), Some("compute"));
    let loaded = extension.load(target.fd().unwrap().as_fd(), "compute");
    if let Err(ProgramError::Extension(ExtensionError::TargetWithoutBtf { .. })) = &loaded {
        skip(
            test,
            "programs are loaded without BTF until BTF loading lands",
        );
        return;
    }
    if skipped_unsupported(test, &loaded) {
        return;
    }
    loaded.unwrap();
    let link = extension.attach().unwrap();
    assert_eq!(target.run(&ctx).unwrap(), 500);
    extension.detach(link).unwrap();
    assert_eq!(target.run(&ctx).unwrap(), 6);
}
