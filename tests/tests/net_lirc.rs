//! lirc_mode2: loads, attaches to a lirc device and decodes what the device receives, where
//! the kernel has it (CONFIG_BPF_LIRC_MODE2 and a lirc device); no Debian kernel builds it (it
//! needs RC_CORE built in), so elsewhere the test prints a SKIPPED line naming the config.

use std::io::Write;

use bpf_programs::BpfLoader;
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::LircMode2;
use integration_tests::{config_off, skip};

const OBJECT: &[u8] = include_bytes!("../bpf/obj/net_lirc.bpf.o");
const TEST: &str = "net_lirc::lirc_mode2_loads_and_attaches_to_a_lirc_device";
/// `LIRC_MODE_PULSE` transmits: pulse, space, pulse (microseconds), an odd count.
const PULSES: [u32; 3] = [900, 450, 900];

#[test]
fn lirc_mode2_loads_and_attaches_to_a_lirc_device() {
    let mut bpf = BpfLoader::new().load(OBJECT).expect("object opens");
    let program: &mut LircMode2 = bpf.program_mut("decode_ir").unwrap().try_into().unwrap();
    assert_eq!(
        bpf_programs::programs::ProgramSection::LircMode2,
        program.data().section().cloned().unwrap()
    );
    // The program type is in every kernel's UAPI enum; whether it is built is in the config.
    if let Some(reason) = config_off("BPF_LIRC_MODE2") {
        skip(TEST, reason);
        return;
    }
    program
        .load()
        .expect("CONFIG_BPF_LIRC_MODE2 is set: the program loads");
    // Only a device that receives what it sends (rc-loopback) lets the test make it fire.
    let Ok(mut device) = std::fs::OpenOptions::new().write(true).open("/dev/lirc0") else {
        skip(TEST, "no /dev/lirc0 device (load the rc-loopback module)");
        return;
    };
    let link = program.attach(&device).unwrap();
    let bytes: Vec<u8> = PULSES.iter().flat_map(|p| p.to_ne_bytes()).collect();
    device.write_all(&bytes).expect("transmitting pulses");
    let samples = GlobalData::try_from(bpf.map(".bss").unwrap())
        .unwrap()
        .get::<u64>("samples")
        .unwrap();
    assert!(
        samples > 0,
        "the program saw none of the looped-back pulses"
    );
    let program: &mut LircMode2 = bpf.program_mut("decode_ir").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    device.write_all(&bytes).expect("transmitting pulses");
    let after = GlobalData::try_from(bpf.map(".bss").unwrap())
        .unwrap()
        .get::<u64>("samples")
        .unwrap();
    assert_eq!(after, samples, "fired after detach");
}
