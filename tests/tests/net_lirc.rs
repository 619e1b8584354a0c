//! lirc_mode2: loads where the kernel has it; this project's kernels do not (SKIPPED).

use bpf_programs::BpfLoader;
use bpf_programs::programs::LircMode2;
use integration_tests::skip;

const OBJECT: &[u8] = include_bytes!("../bpf/obj/net_lirc.bpf.o");

#[test]
fn lirc_mode2_loads_and_attaches_to_a_lirc_device() {
    let mut bpf = BpfLoader::new().load(OBJECT).expect("object opens");
    let program: &mut LircMode2 = bpf.program_mut("decode_ir").unwrap().try_into().unwrap();
    assert_eq!(
        bpf_programs::programs::ProgramSection::LircMode2,
        program.data().section().cloned().unwrap()
    );
    if let Err(e) = program.load() {
        assert_eq!(
            e.errno(),
            Some(libc::EINVAL),
            "unexpected load failure: {e}"
        );
        skip(
            "net_lirc::lirc_mode2_loads_and_attaches_to_a_lirc_device",
            format!("the kernel has no lirc_mode2 program type (CONFIG_BPF_LIRC_MODE2): {e}"),
        );
        return;
    }
    let Ok(device) = std::fs::File::open("/dev/lirc0") else {
        skip(
            "net_lirc::lirc_mode2_loads_and_attaches_to_a_lirc_device",
            "no /dev/lirc0 device",
        );
        return;
    };
    let link = program.attach(&device).unwrap();
    program.detach(link).unwrap();
}
