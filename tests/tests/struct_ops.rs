//! struct_ops: a TCP congestion control written in BPF, registered, used by a loopback TCP
//! connection in a private netns, and unregistered; and an object whose struct_ops map names
//! a struct no kernel has.

#[path = "net_support/mod.rs"]
mod net_support;

use bpf_programs::programs::TestRunOptions;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;

use bpf_programs::Bpf;
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{
    PinnedLink, ProgramError, SocketFilter, StructOpsProgram, StructOpsProgramError,
};
use bpf_programs::struct_ops::{StructOpsError, StructOpsLink};
use bpf_sys::sockopt::{get_bytes_option, set_bytes_option};
use integration_tests::{
    CAP_BPF, CAP_SYS_ADMIN, error_chain, has_capability, kernel_enum_has, skip,
};
use net_support::{TestNetns, eventually};

const CC_OBJECT: &[u8] = integration_tests::bpf_object!("struct_ops_cc.bpf.o");

/// The kernel refusing struct_ops with EPERM because this process may not load them (neither
/// CAP_BPF nor CAP_SYS_ADMIN): the test cannot run here. An EPERM despite the capabilities is
/// no reason to skip.
fn refused(error: &StructOpsError) -> bool {
    let eperm = error.errno() == Some(libc::EPERM)
        || matches!(error, StructOpsError::ProgramLoad { source, .. }
            if source.errno() == Some(libc::EPERM));
    eperm && !has_capability(CAP_BPF) && !has_capability(CAP_SYS_ADMIN)
}

/// Whether the kernel has struct_ops links (Linux 6.4): its attach-type enum names them.
fn kernel_has_struct_ops_links() -> bool {
    kernel_enum_has("bpf_attach_type", "BPF_STRUCT_OPS")
}

fn set_congestion_control(stream: &TcpStream, name: &str) -> std::io::Result<()> {
    set_bytes_option(
        stream.as_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_CONGESTION,
        name.as_bytes(),
    )
}

fn congestion_control(stream: &TcpStream) -> String {
    let mut buf = [0u8; 16];
    let len = get_bytes_option(
        stream.as_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_CONGESTION,
        &mut buf,
    )
    .unwrap();
    let name = &buf[..len];
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8_lossy(&name[..end]).into_owned()
}

/// Connects over loopback with congestion control `cc` and sends 1 MiB, which the peer reads.
fn transfer_with(cc: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let mut total = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match peer.read(&mut buf).unwrap() {
                0 => break total,
                n => total += n,
            }
        }
    });
    let mut stream = TcpStream::connect(addr).unwrap();
    set_congestion_control(&stream, cc).unwrap();
    assert_eq!(congestion_control(&stream), cc);
    let chunk = vec![0x5au8; 64 * 1024];
    for _ in 0..16 {
        stream.write_all(&chunk).unwrap();
    }
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(reader.join().unwrap(), 16 * chunk.len());
}

fn calls(bpf: &Bpf, counter: &str) -> u64 {
    GlobalData::try_from(bpf.map(".bss").unwrap())
        .unwrap()
        .get::<u64>(counter)
        .unwrap()
}

/// Registers map `map` (congestion control `cc`), proves its callbacks run for a connection
/// using it, then drops the link and checks the kernel forgot `cc`.
fn register_use_unregister(test: &str, bpf: &mut Bpf, map: &str, cc: &str) {
    let _netns = TestNetns::enter();
    let probe = TcpStream::connect(
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(),
    )
    .unwrap();
    assert!(
        set_congestion_control(&probe, cc).is_err(),
        "`{cc}` is not registered before the test"
    );

    let link: StructOpsLink = match bpf.register_struct_ops(map) {
        Ok(link) => link,
        Err(e) if refused(&e) => {
            return skip(
                test,
                format!("neither CAP_BPF nor CAP_SYS_ADMIN to load struct_ops: {e}"),
            );
        }
        Err(e) => panic!("registering `{map}`: {e}"),
    };
    assert_eq!(link.map_name(), map);
    let ops = bpf.struct_ops(map).unwrap();
    assert_eq!(ops.type_name(), "tcp_congestion_ops");
    let mut programs = ops.program_names();
    programs.sort_unstable();
    assert_eq!(
        programs,
        [
            "test_cc_cong_avoid",
            "test_cc_init",
            "test_cc_ssthresh",
            "test_cc_undo_cwnd"
        ]
    );

    transfer_with(cc);
    let init = calls(bpf, "init_calls");
    let cong_avoid = calls(bpf, "cong_avoid_calls");
    println!(
        "{map}: init {init}, cong_avoid {cong_avoid}, ssthresh {}, undo_cwnd {}",
        calls(bpf, "ssthresh_calls"),
        calls(bpf, "undo_cwnd_calls")
    );
    assert!(init >= 1, "init ran for the connection");
    assert!(cong_avoid >= 1, "cong_avoid ran on ACKs");

    link.unregister().unwrap();
    eventually(&format!("`{cc}` is unregistered"), || {
        set_congestion_control(&probe, cc).is_err_and(|e| e.raw_os_error() == Some(libc::ENOENT))
    });
}

#[test]
fn struct_ops_cc_registers_by_map_update_and_unregisters() {
    const TEST: &str = "struct_ops::struct_ops_cc_registers_by_map_update_and_unregisters";
    let mut bpf = Bpf::load(CC_OBJECT).unwrap();
    assert!(!bpf.struct_ops("bpf_test_cc").unwrap().uses_link());
    register_use_unregister(TEST, &mut bpf, "bpf_test_cc", "bpf_test_cc");
}

#[test]
fn struct_ops_cc_registers_by_link_and_unregisters_on_drop() {
    const TEST: &str = "struct_ops::struct_ops_cc_registers_by_link_and_unregisters_on_drop";
    let mut bpf = Bpf::load(CC_OBJECT).unwrap();
    let ops = bpf.struct_ops("bpf_test_cc_link").unwrap();
    if let Some(e) = ops.creation_error() {
        if refused(e) {
            return skip(
                TEST,
                format!("neither CAP_BPF nor CAP_SYS_ADMIN to load struct_ops: {e}"),
            );
        }
        panic!("creating the link map: {e}");
    }
    // Before Linux 6.4 there are no struct_ops links: the map is registered by map update.
    let linked = ops.uses_link();
    assert_eq!(linked, kernel_has_struct_ops_links());
    // Data members can be edited before registration, as in a libbpf skeleton.
    let ops = bpf.struct_ops_mut("bpf_test_cc_link").unwrap();
    assert_eq!(ops.member("name").unwrap(), b"bpf_test_cc_lnk\0");
    ops.set_member_str("name", "bpf_test_cc_l2").unwrap();
    assert!(matches!(
        ops.set_member_str("name", "sixteen_chars_xx"),
        Err(StructOpsError::StringTooLong { .. })
    ));
    register_use_unregister(TEST, &mut bpf, "bpf_test_cc_link", "bpf_test_cc_l2");
    if !linked {
        println!("no struct_ops links on this kernel: registered by map update");
        return;
    }
    assert!(matches!(
        bpf.struct_ops_mut("bpf_test_cc_link")
            .unwrap()
            .set_member_str("name", "too_late"),
        Err(StructOpsError::ValueWritten { .. })
    ));

    // A link map can be linked again after its link went away; dropping unregisters too.
    let link = bpf.register_struct_ops("bpf_test_cc_link").unwrap();
    assert!(link.link().unwrap().info().unwrap().id() > 0);
    let _netns = TestNetns::enter();
    let probe = TcpStream::connect(
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(),
    )
    .unwrap();
    set_congestion_control(&probe, "bpf_test_cc_l2").unwrap();
    drop(probe);
    drop(link);
    let probe = TcpStream::connect(
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(),
    )
    .unwrap();
    eventually("`bpf_test_cc_l2` is unregistered after the drop", || {
        set_congestion_control(&probe, "bpf_test_cc_l2").is_err()
    });

    // A pinned link keeps the struct registered without any handle, until unpinned.
    let path = std::path::Path::new("/sys/fs/bpf").join(net_support::unique_name("struct_ops"));
    let pinned = bpf
        .register_struct_ops("bpf_test_cc_link")
        .unwrap()
        .pin(&path)
        .unwrap();
    drop(pinned);
    set_congestion_control(&probe, "bpf_test_cc_l2").unwrap();
    drop(PinnedLink::from_pin(&path).unwrap().unpin().unwrap());
    assert!(!path.exists());
    eventually("`bpf_test_cc_l2` is unregistered after the unpin", || {
        set_congestion_control(&probe, "bpf_test_cc_l2").is_err()
    });
}

#[test]
fn struct_ops_map_for_a_missing_kernel_struct_fails_alone() {
    let mut bpf = Bpf::load(integration_tests::bpf_object!("struct_ops_missing.bpf.o"))
        .expect("the object opens although the kernel lacks its struct_ops struct");
    let ops = bpf.struct_ops("missing_ops").unwrap();
    assert_eq!(ops.type_name(), "bpf_test_missing_ops");
    let error = ops.creation_error().expect("the map cannot be created");
    assert!(
        error_chain(error).contains("no struct `bpf_test_missing_ops`"),
        "{error}"
    );
    let error = bpf.register_struct_ops("missing_ops").unwrap_err();
    assert!(
        matches!(error, StructOpsError::NotCreated { .. }),
        "{error}"
    );

    // Its program fails to load, saying why; a struct_ops program no map uses fails too.
    let error = bpf.program_mut("missing_run").unwrap().load().unwrap_err();
    assert!(
        matches!(
            error,
            ProgramError::StructOps(StructOpsProgramError::Layout { .. })
        ),
        "{error}"
    );
    let error = bpf.program_mut("orphan_run").unwrap().load().unwrap_err();
    assert!(
        matches!(
            error,
            ProgramError::StructOps(StructOpsProgramError::NotInAnyMap { .. })
        ),
        "{error}"
    );

    // Everything else of the object works.
    let program: &mut SocketFilter = bpf.program_mut("still_loads").unwrap().try_into().unwrap();
    program.load().unwrap();
    let out = program
        .test_run(TestRunOptions::new().data(&[0u8; 60]))
        .unwrap();
    assert_eq!(out.return_value, 7);
    assert_eq!(calls(&bpf, "filter_runs"), 1);
}

/// `BPF_PROG_TEST_RUN` of a bpf_dummy_ops program with `args` as its u64 arguments.
fn run_dummy(program: &StructOpsProgram, args: &[u64]) -> u32 {
    let ctx: Vec<u8> = args.iter().flat_map(|a| a.to_ne_bytes()).collect();
    program
        .test_run(TestRunOptions::new().context(&ctx))
        .unwrap()
        .return_value
}

#[test]
fn struct_ops_programs_load_for_their_member_and_run() {
    const TEST: &str = "struct_ops::struct_ops_programs_load_for_their_member_and_run";
    if !integration_tests::kernel_btf_has_name("bpf_dummy_ops") {
        return skip(
            TEST,
            "the kernel has no struct bpf_dummy_ops (its BTF lacks it; Linux 5.17)",
        );
    }
    let mut bpf = Bpf::load(integration_tests::bpf_object!("struct_ops_dummy.bpf.o")).unwrap();
    let ops = bpf.struct_ops("dummy_ops").unwrap();
    assert_eq!(ops.type_name(), "bpf_dummy_ops");
    let layout = ops.layout().unwrap();
    assert_eq!(layout.slot_of("dummy_test_1").unwrap().member_index, 0);
    assert_eq!(layout.slot_of("dummy_test_2").unwrap().member_index, 1);
    // Before Linux 6.3 the struct has no test_sleepable: its program is left out, as libbpf does.
    let kernel_has_sleepable = layout.slot_of("dummy_test_sleepable").is_some();
    assert_eq!(
        !kernel_has_sleepable,
        layout.dropped_programs.contains(&(
            "test_sleepable".to_owned(),
            "dummy_test_sleepable".to_owned()
        ))
    );

    let program: &mut StructOpsProgram =
        bpf.program_mut("dummy_test_1").unwrap().try_into().unwrap();
    match program.load() {
        Err(e)
            if e.errno() == Some(libc::EPERM)
                && !has_capability(CAP_BPF)
                && !has_capability(CAP_SYS_ADMIN) =>
        {
            return skip(
                TEST,
                format!("neither CAP_BPF nor CAP_SYS_ADMIN to load struct_ops: {e}"),
            );
        }
        result => result.unwrap(),
    }
    assert_eq!(run_dummy(program, &[0]), 0x1234, "test_1 with a NULL state");
    // The kernel copies a `struct bpf_dummy_ops_state { int val; }` from (and back to) here.
    let mut state = [41i32];
    let state_ptr = state.as_mut_ptr() as u64;
    assert_eq!(
        run_dummy(program, &[state_ptr]),
        42,
        "test_1 reads the state"
    );
    let program: &mut StructOpsProgram =
        bpf.program_mut("dummy_test_2").unwrap().try_into().unwrap();
    program.load().unwrap();
    assert_eq!(
        run_dummy(program, &[state_ptr, 1, 2, 3, 4]),
        10,
        "test_2 sums its arguments"
    );

    let result = bpf.program_mut("dummy_test_sleepable").unwrap().load();
    if kernel_has_sleepable {
        result.unwrap();
    } else {
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                ProgramError::StructOps(StructOpsProgramError::MemberNotInKernel { .. })
            ),
            "{error}"
        );
    }

    // The kernel builds the struct from our value and the program fds, then its registration
    // hook refuses: bpf_dummy_ops exists for test runs only.
    let error = bpf.register_struct_ops("dummy_ops").unwrap_err();
    assert!(matches!(error, StructOpsError::Register { .. }), "{error}");
    println!("registering bpf_dummy_ops: {error}");
    assert_eq!(state, [41], "the programs left the state alone");
}

#[test]
fn struct_ops_link_switches_to_another_map_in_place() {
    const TEST: &str = "struct_ops::struct_ops_link_switches_to_another_map_in_place";
    let mut first = Bpf::load(CC_OBJECT).unwrap();
    let mut second = Bpf::load(CC_OBJECT).unwrap();
    for bpf in [&mut first, &mut second] {
        let ops = bpf.struct_ops_mut("bpf_test_cc_link").unwrap();
        if let Some(e) = ops.creation_error() {
            if refused(e) {
                return skip(
                    TEST,
                    format!("neither CAP_BPF nor CAP_SYS_ADMIN to load struct_ops: {e}"),
                );
            }
            panic!("creating the link map: {e}");
        }
        if !kernel_has_struct_ops_links() {
            assert!(!ops.uses_link());
            return skip(
                TEST,
                "no struct_ops links: the kernel's enum bpf_attach_type has no BPF_STRUCT_OPS",
            );
        }
        assert!(ops.uses_link());
        // The kernel swaps a congestion control in place only for one of the same name.
        ops.set_member_str("name", "bpf_test_cc_up").unwrap();
    }
    let _netns = TestNetns::enter();
    let mut link = match first.register_struct_ops("bpf_test_cc_link") {
        Ok(link) => link,
        Err(e) if refused(&e) => {
            return skip(
                TEST,
                format!("neither CAP_BPF nor CAP_SYS_ADMIN to load struct_ops: {e}"),
            );
        }
        Err(e) => panic!("registering: {e}"),
    };
    transfer_with("bpf_test_cc_up");
    let first_inits = calls(&first, "init_calls");
    assert!(first_inits >= 1);
    assert_eq!(calls(&second, "init_calls"), 0);

    second
        .update_struct_ops_link(&mut link, "bpf_test_cc_link")
        .unwrap();
    transfer_with("bpf_test_cc_up");
    assert!(calls(&second, "init_calls") >= 1, "the new struct serves");
    assert!(calls(&second, "cong_avoid_calls") >= 1);
    assert_eq!(
        calls(&first, "init_calls"),
        first_inits,
        "the old one no more"
    );

    // A registration by map update has no link to switch.
    let plain = first.struct_ops_mut("bpf_test_cc").unwrap();
    plain.set_member_str("name", "bpf_test_cc_pl").unwrap();
    let mut by_update = first.register_struct_ops("bpf_test_cc").unwrap();
    let error = second
        .update_struct_ops_link(&mut by_update, "bpf_test_cc_link")
        .unwrap_err();
    assert!(matches!(error, StructOpsError::NotALink { .. }), "{error}");
    drop(by_update);

    drop(link);
    let probe = TcpStream::connect(
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(),
    )
    .unwrap();
    eventually("`bpf_test_cc_up` is unregistered", || {
        set_congestion_control(&probe, "bpf_test_cc_up").is_err()
    });
}
