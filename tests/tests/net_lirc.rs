//! lirc_mode2 on the loopback remote-control device (`rc-loopback`, which turns the pulses
//! written to its lirc device into received ones): the program sees each pulse and reports the
//! keypress it decodes with `bpf_rc_keydown`, which arrives at the device's input event device
//! as its scancode; once detached, nothing is decoded. Kernels without the loopback device (the
//! Debian ones: remote-control support is a module there) skip; `cargo xtask build-kernel`
//! builds one that has it. Kernels built without lirc_mode2 programs skip by their config.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{LircMode2, ProgramSection};
use bpf_programs::{Bpf, BpfLoader};
use integration_tests::{config_off, skip};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_lirc.bpf.o");
const TEST: &str = "net_lirc::lirc_mode2_decodes_loopback_pulses_into_a_keypress";

/// A pulse of this many microseconds plus n is the program's code for scancode n.
const SCANCODE_PULSE: u32 = 20000;
const SCANCODE: u32 = 0x1234;

/// `EV_MSC` events with code `MSC_SCAN` carry the scancode rc-core decoded (<linux/input.h>).
const EV_MSC: u16 = 4;
const MSC_SCAN: u16 = 4;

/// The `DEVNAME` of the first `<class dir>/<prefix>*/**/uevent` below `dir`, as a /dev path.
fn device_below(dir: &Path, prefix: &str, depth: usize) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    entries.sort();
    entries.into_iter().find_map(|entry| {
        if depth > 0 {
            return device_below(&entry, "", depth - 1);
        }
        let uevent = std::fs::read_to_string(entry.join("uevent")).ok()?;
        let name = uevent.lines().find_map(|l| l.strip_prefix("DEVNAME="))?;
        Some(Path::new("/dev").join(name))
    })
}

/// The lirc device and the input event device of the rc-loopback remote control, if there is one.
fn loopback_devices() -> Option<(PathBuf, PathBuf)> {
    let rc = std::fs::read_dir("/sys/class/rc")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|dir| {
            std::fs::read_to_string(dir.join("uevent"))
                .is_ok_and(|u| u.lines().any(|l| l == "DRV_NAME=rc-loopback"))
        })?;
    let lirc = device_below(&rc, "lirc", 0)?;
    let event = device_below(&rc, "input", 1)?;
    Some((lirc, event))
}

/// Transmits `durations` (pulse, space, pulse, ...: microseconds) through the lirc device.
fn transmit(lirc: &mut File, durations: &[u32]) {
    let bytes: Vec<u8> = durations.iter().flat_map(|d| d.to_ne_bytes()).collect();
    let written = lirc
        .write(&bytes)
        .expect("writing pulses to the lirc device");
    assert_eq!(written, bytes.len(), "the whole transmission was taken");
}

/// The scancodes of the `MSC_SCAN` events the input device reports within `wait`, or up to
/// `until` once it comes.
fn scancodes_within(events: &mut File, wait: Duration, until: Option<u32>) -> Vec<u32> {
    // struct input_event: struct timeval, __u16 type, __u16 code, __s32 value.
    const EVENT_SIZE: usize = 24;
    let deadline = Instant::now() + wait;
    let mut codes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut poll = libc::pollfd {
            fd: events.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, left.as_millis() as i32) };
        if ready <= 0 {
            return codes;
        }
        let mut buffer = [0u8; EVENT_SIZE * 16];
        let Ok(n) = events.read(&mut buffer) else {
            return codes;
        };
        for event in buffer[..n].chunks_exact(EVENT_SIZE) {
            let kind = u16::from_ne_bytes([event[16], event[17]]);
            let code = u16::from_ne_bytes([event[18], event[19]]);
            let value = u32::from_ne_bytes([event[20], event[21], event[22], event[23]]);
            if kind == EV_MSC && code == MSC_SCAN {
                codes.push(value);
            }
        }
        if until.is_some_and(|code| codes.contains(&code)) {
            return codes;
        }
    }
}

fn counter(bpf: &Bpf, name: &str) -> u64 {
    GlobalData::try_from(bpf.map(".bss").unwrap())
        .unwrap()
        .get::<u64>(name)
        .unwrap()
}

#[test]
fn lirc_mode2_decodes_loopback_pulses_into_a_keypress() {
    let mut bpf = BpfLoader::new().load(OBJECT).expect("object opens");
    let program: &mut LircMode2 = bpf.program_mut("decode_ir").unwrap().try_into().unwrap();
    assert_eq!(
        ProgramSection::LircMode2,
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
    let Some((lirc_path, events_path)) = loopback_devices() else {
        skip(
            TEST,
            "no rc-loopback remote-control device in /sys/class/rc (CONFIG_RC_LOOPBACK)",
        );
        return;
    };
    let mut lirc = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lirc_path)
        .unwrap_or_else(|e| panic!("{}: {e}", lirc_path.display()));
    let mut events = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&events_path)
        .unwrap_or_else(|e| panic!("{}: {e}", events_path.display()));
    // Whatever the device reported before the program was there.
    scancodes_within(&mut events, Duration::ZERO, None);

    let link = program.attach(&lirc).unwrap();
    let keypress = [SCANCODE_PULSE + SCANCODE, 1000, 700];
    transmit(&mut lirc, &keypress);
    let codes = scancodes_within(&mut events, Duration::from_secs(5), Some(SCANCODE));
    assert!(
        codes.contains(&SCANCODE),
        "the decoded keypress reaches the input device: scancodes {codes:x?}"
    );
    // The keypress is reported while the first pulse is decoded; the rest follows.
    let deadline = Instant::now() + Duration::from_secs(5);
    while counter(&bpf, "pulses") < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        counter(&bpf, "pulses") >= 2,
        "both pulses seen: {}",
        counter(&bpf, "pulses")
    );
    assert!(
        counter(&bpf, "samples") > counter(&bpf, "pulses"),
        "spaces too"
    );
    assert_eq!(counter(&bpf, "keydowns"), 1);

    let program: &mut LircMode2 = bpf.program_mut("decode_ir").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    let samples = counter(&bpf, "samples");
    transmit(&mut lirc, &keypress);
    let codes = scancodes_within(&mut events, Duration::from_millis(500), None);
    assert!(
        !codes.contains(&SCANCODE),
        "nothing decodes once detached: scancodes {codes:x?}"
    );
    assert_eq!(counter(&bpf, "samples"), samples, "no sample after detach");
}
