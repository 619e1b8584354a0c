//! USDT probes of this test binary, emitted below the way `sys/sdt.h` emits them (a `nop` at
//! the probe site and a `.note.stapsdt` note naming it), read by a program built with libbpf's
//! `<bpf/usdt.bpf.h>`: arguments in registers (truncated and sign-extended), in memory and
//! constant; the user cookie; a semaphore-guarded probe the kernel enables while attached;
//! section-named auto-attach; detaching; and the errors for unknown probes and binaries.

use std::sync::atomic::{AtomicU16, Ordering};

use bpf_programs::Bpf;
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{Program, ProgramError, Usdt, UsdtError};
use integration_tests::{kernel_has_bpf_cookies, open_for_this_thread, skip};

const OBJECT: &[u8] = integration_tests::bpf_object!("prog_usdt.bpf.o");

// Two probe functions written in assembly so that the argument registers are known:
//
// - `usdt_test_fire_args(a: u64, b: u64, memory: &[u64; 2])`, probe `usdt_test:args` with
//   arguments `4@%edi -4@%esi 8@8(%rdx) -2@$-3`: the low half of `a` unsigned, the low half of
//   `b` signed, `memory[1]`, and the constant -3;
// - `usdt_test_fire_guarded(x: i64)`, probe `usdt_test:guarded` with `-8@%rdi` and the
//   semaphore `usdt_test_guarded_semaphore` (in `.probes`, as sys/sdt.h puts semaphores).
//
// Each note: 4-byte aligned name size, descriptor size and type 3, the owner "stapsdt", then
// the probe address, the link-time address of `_.stapsdt.base` (for prelink adjustment), the
// semaphore address or 0, and provider, name and argument spec as C strings.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    r#"
    .macro usdt_probe function, provider, name, args, semaphore
    .globl \function
    .type \function,@function
\function:
990:
    nop
    .pushsection .note.stapsdt,"?",@note
    .balign 4
    .4byte 992f-991f, 994f-993f, 3
991:
    .asciz "stapsdt"
992:
    .balign 4
993:
    .8byte 990b
    .8byte _.stapsdt.base
    .8byte \semaphore
    .asciz "\provider"
    .asciz "\name"
    .asciz "\args"
994:
    .balign 4
    .popsection
    ret
    .size \function, .-\function
    .endm

    .pushsection .text.usdt_test_probes,"ax",@progbits
    usdt_probe usdt_test_fire_args, usdt_test, args, "4@%edi -4@%esi 8@8(%rdx) -2@$-3", 0
    usdt_probe usdt_test_fire_guarded, usdt_test, guarded, "-8@%rdi", usdt_test_guarded_semaphore
    .popsection

    .pushsection .probes,"aw",@progbits
    .balign 2
    .globl usdt_test_guarded_semaphore
    .type usdt_test_guarded_semaphore,@object
    .size usdt_test_guarded_semaphore, 2
usdt_test_guarded_semaphore:
    .2byte 0
    .popsection

    .ifndef _.stapsdt.base
    .pushsection .stapsdt.base,"aG",@progbits,.stapsdt.base,comdat
    .weak _.stapsdt.base
    .hidden _.stapsdt.base
_.stapsdt.base:
    .space 1
    .size _.stapsdt.base, 1
    .popsection
    .endif
    "#,
    options(att_syntax)
);

// The same on aarch64, with its argument specs (`-4@w1`, `8@[x2, 8]`) and register names.
#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    r#"
    .macro usdt_probe function, provider, name, args, semaphore
    .globl \function
    .type \function,%function
\function:
990:
    nop
    .pushsection .note.stapsdt,"?",%note
    .balign 4
    .4byte 992f-991f, 994f-993f, 3
991:
    .asciz "stapsdt"
992:
    .balign 4
993:
    .8byte 990b
    .8byte _.stapsdt.base
    .8byte \semaphore
    .asciz "\provider"
    .asciz "\name"
    .asciz "\args"
994:
    .balign 4
    .popsection
    ret
    .size \function, .-\function
    .endm

    .pushsection .text.usdt_test_probes,"ax",%progbits
    usdt_probe usdt_test_fire_args, usdt_test, args, "4@w0 -4@w1 8@[x2, 8] -2@-3", 0
    usdt_probe usdt_test_fire_guarded, usdt_test, guarded, "-8@x0", usdt_test_guarded_semaphore
    .popsection

    .pushsection .probes,"aw",%progbits
    .balign 2
    .globl usdt_test_guarded_semaphore
    .type usdt_test_guarded_semaphore,%object
    .size usdt_test_guarded_semaphore, 2
usdt_test_guarded_semaphore:
    .2byte 0
    .popsection

    .ifndef _.stapsdt.base
    .pushsection .stapsdt.base,"aG",%progbits,.stapsdt.base,comdat
    .weak _.stapsdt.base
    .hidden _.stapsdt.base
_.stapsdt.base:
    .space 1
    .size _.stapsdt.base, 1
    .popsection
    .endif
    "#
);

// SAFETY: the functions above take these C-ABI arguments, only execute `nop; ret`, and the
// semaphore is a 2-byte, 2-aligned object that only atomic operations touch.
unsafe extern "C" {
    safe fn usdt_test_fire_args(a: u64, b: u64, memory: &[u64; 2]);
    safe fn usdt_test_fire_guarded(x: i64);
    safe static usdt_test_guarded_semaphore: AtomicU16;
}

/// The probe site as sys/sdt.h's semaphore check writes it: fires only while enabled.
fn fire_guarded(x: i64) -> bool {
    if usdt_test_guarded_semaphore.load(Ordering::Relaxed) == 0 {
        return false;
    }
    usdt_test_fire_guarded(std::hint::black_box(x));
    true
}

fn bss(bpf: &Bpf) -> GlobalData<&bpf_programs::maps::MapData> {
    GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap()
}

/// Fires `usdt_test:args` `n` times; the last call's arguments are `(0xdeadbeef, -12345,
/// 0x1122334455667788, -3)` as the probe reads them.
fn fire_args(n: u64) {
    for i in 0..n {
        let last = i + 1 == n;
        // Garbage in the upper halves: the 4-byte arguments must ignore it.
        let a = 0xffff_ffff_0000_0000 | if last { 0xdead_beef } else { i };
        let b = 0x7777_7777_0000_0000 | u64::from((if last { -12345 } else { -(i as i32) }) as u32);
        let memory = [0, if last { 0x1122_3344_5566_7788 } else { i }];
        usdt_test_fire_args(std::hint::black_box(a), std::hint::black_box(b), &memory);
    }
}

fn open() -> Bpf {
    open_for_this_thread(OBJECT)
}

/// True (after printing the SKIPPED line) when the kernel has no uprobe PMU.
fn skipped_without_uprobes(test: &str) -> bool {
    let missing = !std::path::Path::new("/sys/bus/event_source/devices/uprobe").exists();
    if missing {
        skip(
            &format!("prog_usdt::{test}"),
            "the kernel has no uprobe PMU",
        );
    }
    missing
}

fn needs_pid(err: &ProgramError) -> bool {
    matches!(err, ProgramError::Usdt(e) if matches!(&**e, UsdtError::NeedsPid { .. }))
}

#[test]
fn usdt_arguments_cookie_and_detach() {
    if skipped_without_uprobes("usdt_arguments_cookie_and_detach") {
        return;
    }
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    // Without bpf cookies a site of this position-independent binary is known to the program
    // only by its address in one process, so attaching needs a pid.
    let cookies = kernel_has_bpf_cookies();
    let pid = std::process::id();
    // Every process where the kernel has bpf cookies, else this one (by its site addresses).
    let everyone = if cookies { None } else { Some(pid) };
    let program: &mut Usdt = bpf.program_mut("on_args").unwrap().try_into().unwrap();
    program.load().unwrap();
    if !cookies {
        let err = program.attach(&exe, "usdt_test", "args", None).unwrap_err();
        assert!(needs_pid(&err), "{err}");
    }
    let link = program
        .attach_with_cookie(&exe, "usdt_test", "args", everyone, 0xc00c1e)
        .unwrap();
    fire_args(5);
    let data = bss(&bpf);
    assert_eq!(data.get::<u64>("args_hits").unwrap(), 5, "probe hits");
    assert_eq!(
        data.get::<[i64; 4]>("args_seen").unwrap(),
        [0xdead_beef, -12345, 0x1122_3344_5566_7788, -3],
        "register (truncated), signed register, memory and constant arguments"
    );
    assert_eq!(
        data.get::<i64>("args_count").unwrap(),
        4,
        "bpf_usdt_arg_cnt"
    );
    assert_eq!(
        data.get::<i64>("args_cookie").unwrap(),
        0xc00c1e,
        "bpf_usdt_cookie"
    );

    let program: &mut Usdt = bpf.program_mut("on_args").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    fire_args(3);
    assert_eq!(
        bss(&bpf).get::<u64>("args_hits").unwrap(),
        5,
        "fired after detach"
    );

    // Spec ids (and site addresses) were freed: attaching again (twice) works and counts again.
    let program: &mut Usdt = bpf.program_mut("on_args").unwrap().try_into().unwrap();
    let first = program.attach(&exe, "usdt_test", "args", everyone).unwrap();
    let second = program.attach(&exe, "usdt_test", "args", Some(pid));
    if cookies {
        fire_args(1);
        assert_eq!(
            bss(&bpf).get::<u64>("args_hits").unwrap(),
            7,
            "two attachments"
        );
    } else {
        // Both would key the same address: the second is refused, the first still fires.
        let err = second.as_ref().unwrap_err();
        assert!(
            matches!(err, ProgramError::Usdt(e) if matches!(&**e, UsdtError::SiteInUse { .. })),
            "{err}"
        );
        fire_args(1);
        assert_eq!(bss(&bpf).get::<u64>("args_hits").unwrap(), 6);
    }
    let program: &mut Usdt = bpf.program_mut("on_args").unwrap().try_into().unwrap();
    assert_eq!(program.data().link_count(), if cookies { 2 } else { 1 });
    program.detach(first).unwrap();
    if let Ok(second) = second {
        program.detach(second).unwrap();
    }
}

#[test]
fn usdt_semaphore_is_set_while_attached() {
    if skipped_without_uprobes("usdt_semaphore_is_set_while_attached") {
        return;
    }
    let mut bpf = open();
    assert!(!fire_guarded(1), "semaphore is 0 before any attachment");
    let before = usdt_test_guarded_semaphore.load(Ordering::Relaxed);
    // Section `usdt//proc/self/exe:usdt_test:guarded`: attached as a skeleton would (for every
    // process); without bpf cookies, for this process.
    let program = bpf.program_mut("on_guarded").unwrap();
    if kernel_has_bpf_cookies() {
        assert!(
            program.attach_from_section().unwrap(),
            "section names its target"
        );
    } else {
        let err = program.attach_from_section().unwrap_err();
        assert!(needs_pid(&err), "{err}");
        let program: &mut Usdt = program.try_into().unwrap();
        program.attach_default(Some(std::process::id())).unwrap();
    }
    assert!(
        usdt_test_guarded_semaphore.load(Ordering::Relaxed) > before,
        "the kernel increments the semaphore while the probe is attached"
    );
    for x in [1, 2, -77] {
        assert!(fire_guarded(x));
    }
    let data = bss(&bpf);
    assert_eq!(data.get::<u64>("guarded_hits").unwrap(), 3);
    assert_eq!(data.get::<i64>("guarded_arg").unwrap(), -77);
    drop(data);

    let Program::Usdt(program) = bpf.program_mut("on_guarded").unwrap() else {
        panic!("on_guarded is a usdt program");
    };
    program.unload().unwrap();
    // The uprobe (and its hold on the semaphore) goes with the perf event, which the kernel
    // may release a moment after the link.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while usdt_test_guarded_semaphore.load(Ordering::Relaxed) != before
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        usdt_test_guarded_semaphore.load(Ordering::Relaxed),
        before,
        "the semaphore drops back once detached"
    );
    assert!(!fire_guarded(5) || before > 0);
    assert_eq!(bss(&bpf).get::<u64>("guarded_hits").unwrap(), 3);
}

#[test]
fn usdt_unknown_probe_binary_and_object() {
    let mut bpf = open();
    let exe = std::env::current_exe().unwrap();
    let program: &mut Usdt = bpf.program_mut("on_args").unwrap().try_into().unwrap();
    program.load().unwrap();
    let err = program
        .attach(&exe, "usdt_test", "no_such_probe", None)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::Usdt(e) if matches!(&**e, UsdtError::ProbeNotFound { provider, name, .. }
            if provider == "usdt_test" && name == "no_such_probe")),
        "{err}"
    );
    let err = program
        .attach("libnosuchlibrary_xyz", "p", "n", None)
        .unwrap_err();
    assert!(
        matches!(&err, ProgramError::Usdt(e)
            if matches!(&**e, UsdtError::BinaryNotFound { name, .. } if name == "libnosuchlibrary_xyz")),
        "{err}"
    );
    // Bare `usdt` section: no target to auto-attach.
    assert!(matches!(
        program.attach_default(None),
        Err(ProgramError::Usdt(e)) if matches!(*e, UsdtError::NoTarget { .. })
    ));
}
