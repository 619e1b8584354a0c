//! `test_run` on every program type the kernel can test-run: each program's return value and
//! output depend on its input, so a right answer proves it ran on what it was given.

use bpf_programs::Bpf;
use bpf_programs::maps::GlobalData;
use bpf_programs::programs::{
    FEntry, FModRet, ProgramError, ProgramLoadFlags, TestRunError, TestRunFlags, TestRunOptions,
    TestRunOutput,
};
use integration_tests::{skip, skipped_unsupported, trampoline_refusal};

#[path = "net_support/mod.rs"]
mod net_support;

const OBJECT: &[u8] = include_bytes!("../bpf/obj/prog_test_run.bpf.o");

/// An Ethernet + IPv4 + UDP frame of `len` bytes, `tag` at offset 14 and 15 (over the IP
/// header's first bytes, which the programs read as plain data).
fn frame(len: usize, tag: [u8; 2]) -> Vec<u8> {
    let mut frame = vec![0u8; len];
    frame[0..6].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
    frame[6..12].copy_from_slice(&[7, 8, 9, 10, 11, 12]);
    frame[12] = 0x08;
    frame[14] = tag[0];
    frame[15] = tag[1];
    frame[23] = 17;
    frame
}

/// Loads `name` (or skips when the kernel lacks its type, which an independent fact confirms).
fn load<'a>(
    bpf: &'a mut Bpf,
    test: &str,
    name: &str,
) -> Option<&'a bpf_programs::programs::Program> {
    let result = bpf.program_mut(name).unwrap().load();
    if skipped_unsupported(test, &result) {
        return None;
    }
    result.unwrap_or_else(|e| panic!("{name} loads: {}", integration_tests::error_chain(&e)));
    bpf.program(name)
}

fn run(program: &bpf_programs::programs::Program, options: TestRunOptions<'_>) -> TestRunOutput {
    program
        .test_run(options)
        .unwrap_or_else(|e| panic!("test run: {}", integration_tests::error_chain(&e)))
}

#[test]
fn socket_filter_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::socket_filter_test_run_on_input",
        "run_socket",
    )
    .unwrap();
    for (len, tag) in [(60, 0x11), (100, 0x22)] {
        let out = run(program, TestRunOptions::new().data(&frame(len, [tag, 0])));
        // The kernel pulls the Ethernet header before the program sees the skb.
        assert_eq!(out.return_value, (len as u32 - 14) * 256 + u32::from(tag));
    }
}

#[test]
fn sched_cls_test_run_on_input() {
    // As docs/GUIDE.md's "Testing your BPF programs" does it.
    let mut bpf = bpf_programs::BpfLoader::new()
        .load_flags(ProgramLoadFlags::STRICT_ALIGNMENT | ProgramLoadFlags::TEST_RND_HI32)
        .load(OBJECT)
        .unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::sched_cls_test_run_on_input",
        "run_tc",
    )
    .unwrap();
    let input = frame(64, [0x0f, 0x5a]);
    let mut out = [0u8; 128];
    let result = run(
        program,
        TestRunOptions::new()
            .data(&input)
            .data_out(&mut out)
            .repeat(5),
    );
    assert_eq!(result.return_value, 0x5a, "byte 15 of the input");
    assert_eq!(result.data_len, 64);
    assert_eq!(out[14], 0xf0, "byte 14 inverted");
    assert_eq!(out[..14], input[..14]);
    assert_eq!(out[16..64], input[16..]);
}

/// Offsets in `struct __sk_buff` (192 bytes).
const SKB_MARK: usize = 8;
const SKB_PRIORITY: usize = 32;
const SKB_SIZE: usize = 192;

#[test]
fn sched_cls_test_run_on_input_context_in_and_out() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::sched_cls_test_run_on_input_context_in_and_out",
        "run_tc_context",
    )
    .unwrap();
    let mut ctx = [0u8; SKB_SIZE];
    ctx[SKB_MARK..SKB_MARK + 4].copy_from_slice(&21u32.to_ne_bytes());
    let mut ctx_out = [0u8; SKB_SIZE];
    let result = run(
        program,
        TestRunOptions::new()
            .data(&frame(64, [0, 0]))
            .context(&ctx)
            .context_out(&mut ctx_out),
    );
    assert_eq!(result.return_value, 21, "the mark given");
    // The kernel writes back as much of `__sk_buff` as it has (184 bytes before Linux 5.16).
    let kernel_size =
        integration_tests::kernel_struct_size("__sk_buff").map_or(SKB_SIZE, |s| s as usize);
    assert_eq!(result.context_len, kernel_size.min(SKB_SIZE));
    assert_eq!(
        ctx_out[SKB_PRIORITY..SKB_PRIORITY + 4],
        42u32.to_ne_bytes(),
        "priority written back"
    );

    let mut small = [0u8; 16];
    let too_small = program.test_run(
        TestRunOptions::new()
            .data(&frame(64, [0, 0]))
            .context(&ctx)
            .context_out(&mut small),
    );
    match too_small {
        Err(ProgramError::TestRun(TestRunError::BufferTooSmall {
            buffer,
            needed,
            given,
            ..
        })) => assert_eq!(
            (buffer, needed, given),
            ("context_out", kernel_size.min(SKB_SIZE), 16)
        ),
        other => panic!("expected BufferTooSmall, got {other:?}"),
    }
}

#[test]
fn sched_act_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::sched_act_test_run_on_input",
        "run_action",
    )
    .unwrap();
    for len in [64, 80] {
        let out = run(program, TestRunOptions::new().data(&frame(len, [0, 0])));
        assert_eq!(out.return_value, len as u32, "the frame's length");
    }
}

#[test]
fn xdp_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(&mut bpf, "prog_test_run::xdp_test_run_on_input", "run_xdp").unwrap();
    let input = frame(64, [0, 0]);
    let mut out = [0u8; 64];
    let result = run(
        program,
        TestRunOptions::new().data(&input).data_out(&mut out),
    );
    assert_eq!(result.return_value, 3, "XDP_TX for IPv4");
    assert_eq!(result.data_len, 64);
    assert_eq!(out[0..6], input[6..12], "MAC addresses swapped");
    assert_eq!(out[6..12], input[0..6], "MAC addresses swapped");
    let mut arp = frame(64, [0, 0]);
    arp[13] = 0x06;
    let result = run(program, TestRunOptions::new().data(&arp));
    assert_eq!(result.return_value, 2, "XDP_PASS for ARP");
    assert_eq!(result.data_len, 64, "size reported without a buffer");
}

#[test]
fn xdp_test_run_on_input_reports_the_size_a_small_buffer_needed() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::xdp_test_run_on_input_reports_the_size_a_small_buffer_needed",
        "run_xdp",
    )
    .unwrap();
    let input = frame(64, [0, 0]);
    let mut out = [0u8; 32];
    match program.test_run(TestRunOptions::new().data(&input).data_out(&mut out)) {
        Err(ProgramError::TestRun(TestRunError::BufferTooSmall {
            program,
            buffer,
            needed,
            given,
        })) => {
            assert_eq!(
                (program.as_str(), buffer, needed, given),
                ("run_xdp", "data_out", 64, 32)
            );
        }
        other => panic!("expected BufferTooSmall, got {other:?}"),
    }
    assert_eq!(
        out[0..6],
        input[6..12],
        "the buffer is filled as far as it goes"
    );
}

/// An Ethernet frame carrying a UDP datagram from 127.0.0.1:5555 to 127.0.0.1:`port`.
fn udp_frame_to_loopback(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 14];
    frame[12] = 0x08;
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[127, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[127, 0, 0, 1]);
    let sum: u32 = ip
        .chunks(2)
        .map(|word| u32::from(u16::from_be_bytes([word[0], word[1]])))
        .sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !((folded & 0xffff) + (folded >> 16)) as u16;
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&5555u16.to_be_bytes());
    frame.extend_from_slice(&port.to_be_bytes());
    frame.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]); // no UDP checksum
    frame.extend_from_slice(payload);
    frame
}

/// The netns's `Ip: InReceives` counter (datagrams handed to IP), from /proc/net/snmp.
fn ip_in_receives() -> u64 {
    let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap();
    let mut ip_lines = snmp.lines().filter(|line| line.starts_with("Ip:"));
    let (names, values) = (ip_lines.next().unwrap(), ip_lines.next().unwrap());
    let column = names
        .split_whitespace()
        .position(|name| name == "InReceives")
        .unwrap();
    values
        .split_whitespace()
        .nth(column)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn xdp_test_run_on_input_live_frames_reach_the_stack() {
    // Live frames came with Linux 5.18, whose test run sends them from a page pool.
    if !integration_tests::kernel_btf_has_name("xdp_test_data") {
        integration_tests::skip(
            "prog_test_run::xdp_test_run_on_input_live_frames_reach_the_stack",
            "the kernel has no XDP live-frame test runs (no struct xdp_test_data in its BTF)",
        );
        return;
    }
    // A namespace of our own: nobody else's packets in its counters.
    let _netns = net_support::TestNetns::enter();
    let mut bpf = Bpf::load(OBJECT).unwrap();
    // XDP_PASS when bytes 15..19 (the IP header's total length and id) are not all zero.
    let program = load(
        &mut bpf,
        "prog_test_run::xdp_test_run_on_input_live_frames_reach_the_stack",
        "misaligned_xdp",
    )
    .unwrap();
    let frame = udp_frame_to_loopback(9, b"live");
    let before = ip_in_receives();
    let out = run(
        program,
        TestRunOptions::new()
            .data(&frame)
            .repeat(5)
            .flags(TestRunFlags::XDP_LIVE_FRAMES)
            .batch_size(2),
    );
    assert_eq!(out.return_value, 0, "live runs report no verdict");
    assert_eq!(
        ip_in_receives() - before,
        5,
        "each of the 5 runs passed its frame to the stack of the namespace's lo"
    );
}

#[test]
fn cgroup_skb_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::cgroup_skb_test_run_on_input",
        "run_cgroup_skb",
    )
    .unwrap();
    for tag in [0x45u8, 0x44] {
        let out = run(program, TestRunOptions::new().data(&frame(64, [tag, 0])));
        assert_eq!(out.return_value, u32::from(tag & 1), "byte 14 = {tag:#x}");
    }
}

#[test]
fn lwt_xmit_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::lwt_xmit_test_run_on_input",
        "run_lwt_xmit",
    );
    let Some(program) = program else { return };
    assert_eq!(
        run(program, TestRunOptions::new().data(&frame(64, [0, 0]))).return_value,
        0
    );
    assert_eq!(
        run(program, TestRunOptions::new().data(&frame(200, [0, 0]))).return_value,
        2,
        "BPF_DROP over 100 bytes"
    );
}

#[test]
fn flow_dissector_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::flow_dissector_test_run_on_input",
        "run_flow_dissector",
    )
    .unwrap();
    let mut keys = [0u8; 56];
    let result = run(
        program,
        TestRunOptions::new()
            .data(&frame(64, [0x45, 0]))
            .data_out(&mut keys),
    );
    // Before Linux 5.19 (which added BPF_FLOW_DISSECTOR_CONTINUE) the kernel reported
    // whether the program returned BPF_OK (1), since then what it returned (BPF_OK = 0).
    let reports_verdict =
        integration_tests::kernel_enum_has("bpf_ret_code", "BPF_FLOW_DISSECTOR_CONTINUE");
    assert_eq!(
        result.return_value,
        if reports_verdict { 0 } else { 1 },
        "BPF_OK"
    );
    assert_eq!(result.data_len, 56, "struct bpf_flow_keys");
    assert_eq!(keys[9], 17, "ip_proto from the packet");
    assert_eq!(u16::from_ne_bytes([keys[0], keys[1]]), 14, "nhoff");
    assert_eq!(u16::from_ne_bytes([keys[2], keys[3]]), 34, "thoff");
    let mut no_proto = frame(64, [0x45, 0]);
    no_proto[23] = 0;
    let result = run(program, TestRunOptions::new().data(&no_proto));
    let dropped = if reports_verdict { 2 } else { 0 };
    assert_eq!(result.return_value, dropped, "BPF_DROP for protocol 0");
}

/// A `struct bpf_sk_lookup` for a TCP lookup of 127.0.0.1:`port`.
fn sk_lookup_context(port: u32) -> [u8; 72] {
    let mut ctx = [0u8; 72];
    ctx[8..12].copy_from_slice(&(libc::AF_INET as u32).to_ne_bytes());
    ctx[12..16].copy_from_slice(&(libc::IPPROTO_TCP as u32).to_ne_bytes());
    ctx[16..20].copy_from_slice(&[127, 0, 0, 1]);
    ctx[36..38].copy_from_slice(&4000u16.to_be_bytes());
    ctx[40..44].copy_from_slice(&[127, 0, 0, 1]);
    ctx[60..64].copy_from_slice(&port.to_ne_bytes());
    ctx
}

#[test]
fn sk_lookup_test_run_on_input() {
    let test = "prog_test_run::sk_lookup_test_run_on_input";
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let Some(program) = load(&mut bpf, test, "run_sk_lookup") else {
        return;
    };
    let pass = run(
        program,
        TestRunOptions::new().context(&sk_lookup_context(80)),
    );
    assert_eq!(pass.return_value, 1, "SK_PASS");
    let drop = run(
        program,
        TestRunOptions::new().context(&sk_lookup_context(7777)),
    );
    assert_eq!(drop.return_value, 0, "SK_DROP for port 7777");
}

#[test]
fn raw_tracepoint_test_run_on_input() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::raw_tracepoint_test_run_on_input",
        "run_raw_tp",
    )
    .unwrap();
    let args: Vec<u8> = [5u64, 3].iter().flat_map(|a| a.to_ne_bytes()).collect();
    assert_eq!(
        run(program, TestRunOptions::new().context(&args)).return_value,
        13
    );
}

#[test]
fn raw_tracepoint_test_run_on_input_runs_on_the_cpu_asked() {
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program = load(
        &mut bpf,
        "prog_test_run::raw_tracepoint_test_run_on_input_runs_on_the_cpu_asked",
        "run_raw_tp_cpu",
    )
    .unwrap();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let args = [0u8; 8];
    for cpu in 0..cpus.min(4) {
        let out = run(program, TestRunOptions::new().context(&args).cpu(cpu));
        assert_eq!(out.return_value, cpu);
    }
    let flags = TestRunOptions::new()
        .context(&args)
        .flags(TestRunFlags::RUN_ON_CPU)
        .cpu(0);
    assert_eq!(run(program, flags).return_value, 0);
}

#[test]
fn syscall_test_run_on_input() {
    let test = "prog_test_run::syscall_test_run_on_input";
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let Some(program) = load(&mut bpf, test, "run_syscall") else {
        return;
    };
    let input: Vec<u8> = [6u32, 7, 0].iter().flat_map(|a| a.to_ne_bytes()).collect();
    let mut ctx_out = [0u8; 16];
    let result = run(
        program,
        TestRunOptions::new()
            .context(&input)
            .context_out(&mut ctx_out),
    );
    assert_eq!(result.return_value, 42, "a * b");
    assert_eq!(result.context_len, 12);
    assert_eq!(ctx_out[8..12], 13u32.to_ne_bytes(), "a + b written back");
    assert_eq!(input[8..12], [0; 4], "the input is left alone");
    let without_buffer = run(program, TestRunOptions::new().context(&input));
    assert_eq!(without_buffer.return_value, 42);
}

#[test]
fn netfilter_test_run_on_input() {
    let test = "prog_test_run::netfilter_test_run_on_input";
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let Some(program) = load(&mut bpf, test, "run_netfilter") else {
        return;
    };
    // Netfilter programs see the packet from its IP header.
    let accept = run(
        program,
        TestRunOptions::new().data(&frame(40, [0x45, 0])[..40]),
    );
    assert_eq!(accept.return_value, 1, "NF_ACCEPT");
    let drop = run(program, TestRunOptions::new().data(&frame(200, [0x45, 0])));
    assert_eq!(drop.return_value, 0, "NF_DROP over 100 bytes");
}

#[test]
fn fentry_test_run_on_input() {
    let test = "prog_test_run::fentry_test_run_on_input";
    if let Some(reason) = trampoline_refusal() {
        skip(test, reason);
        return;
    }
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program: &mut FEntry = bpf.program_mut("run_fentry").unwrap().try_into().unwrap();
    program.load().unwrap();
    program.attach(0).unwrap();
    let out = program.test_run(TestRunOptions::new()).unwrap();
    assert_eq!(out.return_value, 0);
    let bss = GlobalData::try_from(bpf.map(".bss").unwrap()).unwrap();
    assert_eq!(
        bss.get::<u64>("fentry_arg").unwrap(),
        2,
        "bpf_fentry_test1(1) traced"
    );
}

#[test]
fn fmod_ret_test_run_on_input() {
    let test = "prog_test_run::fmod_ret_test_run_on_input";
    if let Some(reason) = trampoline_refusal() {
        skip(test, reason);
        return;
    }
    let mut bpf = Bpf::load(OBJECT).unwrap();
    let program: &mut FModRet = bpf.program_mut("run_fmod_ret").unwrap().try_into().unwrap();
    match program.load() {
        // Kernels before the fmod_ret id set (6.1) allow it only through error injection.
        Err(ProgramError::Load { source, .. })
            if source.verifier_log.text.contains("is not modifiable") =>
        {
            let reason = integration_tests::config_off("FUNCTION_ERROR_INJECTION")
                .unwrap_or_else(|| panic!("refused with error injection on: {source}"));
            skip(
                test,
                format!("bpf_modify_return_test is not modifiable: {reason}"),
            );
            return;
        }
        loaded => loaded.unwrap(),
    }
    // The run's value is (side effects << 16) | the sum of the results of the kernel's
    // bpf_modify_return_test* calls (one on 6.1, two since). Unattached,
    // bpf_modify_return_test(1, &b) returns 4 and has one side effect.
    let plain = program
        .test_run(TestRunOptions::new())
        .unwrap()
        .return_value;
    assert!(plain >> 16 >= 1 && plain & 0xffff >= 4, "{plain:#x}");
    program.attach(0).unwrap();
    let replaced = program
        .test_run(TestRunOptions::new())
        .unwrap()
        .return_value;
    let expected = ((plain >> 16) - 1) << 16 | ((plain & 0xffff) - 4 + 1234);
    assert_eq!(
        replaced, expected,
        "1234 instead of 4 and no side effect (unattached: {plain:#x})"
    );
}

#[test]
fn kprobe_test_run_on_input_is_refused_by_type() {
    let bpf = Bpf::load(OBJECT).unwrap();
    let program = bpf.program("no_test_run").unwrap();
    match program.test_run(TestRunOptions::new()) {
        Err(ProgramError::TestRun(e @ TestRunError::NotSupported { .. })) => {
            assert_eq!(
                e.to_string(),
                "program `no_test_run`: the kernel cannot test-run kprobe programs"
            );
        }
        other => panic!("expected NotSupported, got {other:?}"),
    }
}
