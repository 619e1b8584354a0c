//! Every fd the library opens is closed when its owner is dropped, for every program type:
//! each is loaded (or its load refused, which must not leak either) and, where this kernel
//! can, attached, and everything is dropped; a second pass must end with the fds the first
//! ended with (the first fills process-wide caches). Own binary: it counts the process's fds, which parallel tests would
//! disturb. Which program types exist is checked against the library's list, so a new type
//! without a case here fails the test.

#[path = "net_support/mod.rs"]
mod net_support;

use std::any::Any;
use std::collections::BTreeSet;
use std::io::Read;
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use bpf_programs::maps::flags::BPF_F_MMAPABLE;
use bpf_programs::maps::{MapData, SockMap};
use bpf_programs::programs::{
    CgroupAttachMode, CgroupDevice, CgroupSkb, CgroupSkbAttachType, CgroupSock, CgroupSockAddr,
    CgroupSockopt, CgroupSysctl, Extension, FEntry, FExit, FModRet, FlowDissector, Iter, KProbe,
    KProbeMulti, LircMode2, Lsm, Netfilter, NetfilterAttachOptions, NetfilterFamily, NetfilterHook,
    Netkit, NetkitAttachType, PerfEvent, PerfEventScope, PerfTypeId, Program, ProgramError,
    RawTracePoint, SamplePolicy, SchedClassifier, SkLookup, SkMsg, SkReuseport, SkSkb, SockOps,
    SocketFilter, Syscall, TcAttachOptions, TcAttachType, TracePoint, UProbe, UProbeLocation,
    UProbeMulti, Usdt, Xdp, XdpFlags,
};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::generated::bpf_map_type;
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::netlink::link::{NetkitMode, netkit_add};
use bpf_sys::sockopt::{bind_ipv4, set_int_option, socket};
use integration_tests::{counter, getpid_n, gettid, open_fd_count, value_at};
use net_support::{TestCgroup, TestNetns, open_cgroup_object, send_udp};

const RAW_TP: &[u8] = integration_tests::bpf_object!("prog_raw_tracepoint.bpf.o");
const TP: &[u8] = integration_tests::bpf_object!("prog_tracepoint.bpf.o");
const TP_BTF: &[u8] = integration_tests::bpf_object!("prog_btf_tracepoint.bpf.o");
const UPROBE: &[u8] = integration_tests::bpf_object!("prog_uprobe.bpf.o");
const USDT: &[u8] = integration_tests::bpf_object!("prog_usdt.bpf.o");
const KPROBE: &[u8] = integration_tests::bpf_object!("prog_kprobe.bpf.o");
const FENTRY: &[u8] = integration_tests::bpf_object!("prog_fentry.bpf.o");
const LSM: &[u8] = integration_tests::bpf_object!("prog_lsm.bpf.o");
const EXTENSION: &[u8] = integration_tests::bpf_object!("prog_extension.bpf.o");
const PERF: &[u8] = integration_tests::bpf_object!("prog_perf_event.bpf.o");
const ITER: &[u8] = integration_tests::bpf_object!("prog_iter.bpf.o");
const SYSCALL: &[u8] = integration_tests::bpf_object!("prog_syscall.bpf.o");
const STRUCT_OPS: &[u8] = integration_tests::bpf_object!("struct_ops_cc.bpf.o");
const NET: &[u8] = integration_tests::bpf_object!("net_packet.bpf.o");
const NETKIT: &[u8] = integration_tests::bpf_object!("net_netkit.bpf.o");
const SOCKMAP: &[u8] = integration_tests::bpf_object!("net_sockmap.bpf.o");
const LIRC: &[u8] = integration_tests::bpf_object!("net_lirc.bpf.o");
const UNSUPPORTED: &[u8] = integration_tests::bpf_object!("prog_unsupported.bpf.o");
const MODULE_KFUNCS: &[u8] = integration_tests::bpf_object!("module_btf.bpf.o");
const ARENA: &[u8] = integration_tests::bpf_object!("map_arena.bpf.o");
const PORT: u16 = 40080;

/// Every program type the library has (`Program::type_name`), each needing a case below.
const ALL_TYPES: &[&str] = &[
    "kprobe",
    "kprobe.multi",
    "uprobe",
    "uprobe.multi",
    "usdt",
    "tracepoint",
    "raw_tracepoint",
    "tp_btf",
    "fentry",
    "fexit",
    "fmod_ret",
    "lsm",
    "perf_event",
    "freplace",
    "iter",
    "syscall",
    "struct_ops",
    "xdp",
    "sched_cls",
    "cgroup_skb",
    "cgroup_sock",
    "cgroup_sock_addr",
    "cgroup_sockopt",
    "cgroup_sysctl",
    "cgroup_device",
    "sock_ops",
    "sk_msg",
    "sk_skb",
    "socket_filter",
    "sk_lookup",
    "flow_dissector",
    "sk_reuseport",
    "netfilter",
    "netkit",
    "lirc_mode2",
    "unsupported",
    "unknown",
];

#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fd_leak_probe_target(x: u64) -> u64 {
    std::hint::black_box(x + 1)
}

// A USDT probe of this binary, emitted the way sys/sdt.h does: a `nop` at the probe site and
// a `.note.stapsdt` note (name size, descriptor size, type 3, "stapsdt", probe address,
// `_.stapsdt.base`, semaphore 0, provider, name, arguments).
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    r#"
    .pushsection .text.fd_leak_usdt,"ax",@progbits
    .globl fd_leak_usdt_fire
    .type fd_leak_usdt_fire,@function
fd_leak_usdt_fire:
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
    .8byte 0
    .asciz "fd_leak"
    .asciz "fire"
    .asciz "-8@%rdi"
994:
    .balign 4
    .popsection
    ret
    .size fd_leak_usdt_fire, .-fd_leak_usdt_fire
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
// The same probe with its aarch64 argument spec.
#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    r#"
    .pushsection .text.fd_leak_usdt,"ax",%progbits
    .globl fd_leak_usdt_fire
    .type fd_leak_usdt_fire,%function
fd_leak_usdt_fire:
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
    .8byte 0
    .asciz "fd_leak"
    .asciz "fire"
    .asciz "-8@x0"
994:
    .balign 4
    .popsection
    ret
    .size fd_leak_usdt_fire, .-fd_leak_usdt_fire
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

// SAFETY: the function above takes one System V argument and only executes `nop; ret`.
unsafe extern "C" {
    safe fn fd_leak_usdt_fire(x: i64);
}

/// What one pass keeps alive until its end, then drops in reverse order.
#[derive(Default)]
struct Pass {
    kept: Vec<Box<dyn Any>>,
    covered: BTreeSet<&'static str>,
}

impl Pass {
    fn keep(&mut self, thing: impl Any) {
        self.kept.push(Box::new(thing));
    }

    /// Records the type of program `name` in `bpf` and returns it, typed.
    fn program<'b, P>(&mut self, bpf: &'b mut Bpf, name: &str) -> &'b mut P
    where
        &'b mut P: TryFrom<&'b mut Program, Error = ProgramError>,
    {
        let program = bpf
            .program_mut(name)
            .unwrap_or_else(|| panic!("no program `{name}`"));
        self.covered.insert(program.type_name());
        program.try_into().expect("the expected program type")
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        while let Some(thing) = self.kept.pop() {
            drop(thing);
        }
    }
}

fn for_this_thread(object: &[u8]) -> Bpf {
    BpfLoader::new()
        .set_global("target_tid", &gettid())
        .load(object)
        .expect("object opens")
}

fn net_object(object: &[u8]) -> Bpf {
    BpfLoader::new()
        .set_global("target_port", &PORT)
        .load(object)
        .expect("object opens")
}

/// Whether the kernel's BTF names `name`: what it knows, read without the library.
fn kernel_knows(name: &str) -> bool {
    static BTF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let btf = BTF.get_or_init(|| std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default());
    let needle: Vec<u8> = [&[0], name.as_bytes(), &[0]].concat();
    btf.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// A raw arena map creation: whether this process may create arenas here (root without
/// CAP_SYS_RESOURCE may not; kernels before 6.9 have no arenas).
fn arena_creatable() -> bool {
    MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_ARENA,
        max_entries: 1,
        map_flags: BPF_F_MMAPABLE,
        name: "fd_leak_probe",
        ..MapCreateAttr::default()
    })
    .is_ok()
}

/// Whether loading failed because the kernel refuses the type outright here (trampolines,
/// types not built in); any other failure is a test failure.
fn refused_here(result: &Result<(), ProgramError>) -> bool {
    match result {
        Ok(()) => false,
        Err(ProgramError::ProgramNotSupported { .. } | ProgramError::NotSupported { .. }) => true,
        Err(e) => matches!(e.errno(), Some(libc::EPERM | libc::EINVAL)),
    }
}

/// Spins until counter `key` of `bpf`'s `hits` map is non-zero (perf samples come with CPU
/// time).
fn wait_for_hits(bpf: &Bpf, key: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    while value_at(bpf, "hits", key) == 0 && Instant::now() < deadline {
        std::hint::black_box((0..10_000u64).sum::<u64>());
    }
    value_at(bpf, "hits", key)
}

fn tracing(pass: &mut Pass) {
    let mut raw = for_this_thread(RAW_TP);
    let program: &mut RawTracePoint = pass.program(&mut raw, "count_sys_enter");
    program.load().unwrap();
    let id = program.attach("sys_enter").unwrap();
    let taken = program.take_link(id).unwrap();
    getpid_n(2);
    assert!(counter(&raw, "hits") >= 2, "raw tracepoint ran");
    assert!(raw.program_mut("unchecked_lookup").unwrap().load().is_err());
    let unknown = raw.program_mut("mystery").unwrap();
    pass.covered.insert(unknown.type_name());
    assert!(unknown.load().is_err(), "an unknown section does not load");
    pass.keep(raw.take_map("hits"));
    pass.keep(taken);
    pass.keep(raw);

    let mut tp = for_this_thread(TP);
    let program: &mut TracePoint = pass.program(&mut tp, "count_getpid");
    program.load().unwrap();
    program.attach_default().unwrap();
    getpid_n(3);
    assert_eq!(counter(&tp, "hits"), 3, "tracepoint ran");
    pass.keep(tp);

    let mut tp_btf = for_this_thread(TP_BTF);
    let program: &mut bpf_programs::programs::BtfTracePoint =
        pass.program(&mut tp_btf, "on_sys_enter");
    program.load().unwrap();
    program.attach().unwrap();
    getpid_n(1);
    assert!(counter(&tp_btf, "hits") >= 1, "tp_btf ran");
    pass.keep(tp_btf);

    let exe = std::env::current_exe().unwrap();
    let mut uprobe = for_this_thread(UPROBE);
    let program: &mut UProbe = pass.program(&mut uprobe, "count_entry");
    program.load().unwrap();
    // A cookie where the kernel takes one (perf event bpf_link, Linux 5.15).
    let cookie = integration_tests::kernel_has_bpf_cookies().then_some(1);
    program
        .attach("fd_leak_probe_target", &exe, None, cookie)
        .unwrap();
    std::hint::black_box(fd_leak_probe_target(1));
    assert_eq!(value_at(&uprobe, "hits", 0), 1, "uprobe ran");
    let program: &mut UProbeMulti = pass.program(&mut uprobe, "count_multi");
    program.load().unwrap();
    if kernel_knows("BPF_TRACE_UPROBE_MULTI") {
        let locations = [UProbeLocation::Symbol("fd_leak_probe_target")];
        program.attach(&locations, &exe, None, &[]).unwrap();
        std::hint::black_box(fd_leak_probe_target(1));
        assert_eq!(value_at(&uprobe, "hits", 2), 1, "uprobe.multi ran");
    }
    pass.keep(uprobe);

    let mut usdt = for_this_thread(USDT);
    let program: &mut Usdt = pass.program(&mut usdt, "on_args");
    program.load().unwrap();
    // Without bpf cookies a site of this position-independent binary needs a pid.
    let pid = (!integration_tests::kernel_has_bpf_cookies()).then(std::process::id);
    program.attach(&exe, "fd_leak", "fire", pid).unwrap();
    fd_leak_usdt_fire(std::hint::black_box(7));
    let bss = bpf_programs::maps::GlobalData::try_from(usdt.map(".bss").unwrap()).unwrap();
    assert_eq!(bss.get::<u64>("args_hits").unwrap(), 1, "USDT probe ran");
    pass.keep(usdt);

    let mut kprobe = for_this_thread(KPROBE);
    let program: &mut KProbe = pass.program(&mut kprobe, "on_entry");
    program.load().unwrap();
    if std::path::Path::new("/sys/bus/event_source/devices/kprobe/type").exists() {
        program.attach_default().unwrap();
        getpid_n(2);
        assert!(counter(&kprobe, "hits") >= 2, "kprobe ran");
    }
    let program: &mut KProbeMulti = pass.program(&mut kprobe, "on_multi");
    program.load().unwrap();
    // Multi kprobes need fprobes (CONFIG_FPROBE), whose registration function kallsyms lists.
    static FPROBES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let fprobes = FPROBES.get_or_init(|| {
        std::fs::read_to_string("/proc/kallsyms")
            .is_ok_and(|symbols| symbols.contains(" register_fprobe\n"))
    });
    if *fprobes {
        program.attach_default().unwrap();
    }
    pass.keep(kprobe);

    let mut fentry = for_this_thread(FENTRY);
    for name in ["fentry_getpid", "fexit_getpid", "fmod_ret_file_open"] {
        let program = fentry.program_mut(name).unwrap();
        pass.covered.insert(program.type_name());
        let loaded = match name {
            "fentry_getpid" => load_getpid(pass.program::<FEntry>(&mut fentry, name)),
            "fexit_getpid" => load_getpid_exit(pass.program::<FExit>(&mut fentry, name)),
            _ => pass.program::<FModRet>(&mut fentry, name).load(),
        };
        assert!(
            loaded.is_ok() || refused_here(&loaded),
            "{name}: {loaded:?}"
        );
        if loaded.is_ok() && name == "fentry_getpid" {
            pass.program::<FEntry>(&mut fentry, name).attach(0).unwrap();
            getpid_n(1);
            assert!(value_at(&fentry, "hits", 0) >= 1, "fentry ran");
        }
    }
    pass.keep(fentry);

    let mut lsm = for_this_thread(LSM);
    let program: &mut Lsm = pass.program(&mut lsm, "count_opens");
    let loaded = program.load();
    assert!(loaded.is_ok() || refused_here(&loaded), "lsm: {loaded:?}");
    let bpf_lsm = std::fs::read_to_string("/sys/kernel/security/lsm")
        .is_ok_and(|list| list.split(',').any(|lsm| lsm.trim() == "bpf"));
    if loaded.is_ok() && bpf_lsm {
        program.attach().unwrap();
        drop(std::fs::File::open("/proc/self/status").unwrap());
        assert!(counter(&lsm, "hits") >= 1, "lsm ran");
    }
    pass.keep(lsm);

    // freplace's target and syscall programs need BPF_PROG_TYPE_SYSCALL (Linux 5.14).
    let syscall_programs = kernel_knows("BPF_PROG_TYPE_SYSCALL");
    if syscall_programs {
        let mut extension = BpfLoader::new().load(EXTENSION).unwrap();
        let target: &mut Syscall = pass.program(&mut extension, "run_compute");
        target.load().unwrap();
        let target_fd = target.fd().unwrap().try_clone().unwrap();
        let program: &mut Extension = pass.program(&mut extension, "compute_replaced");
        let loaded = program.load(target_fd.as_fd(), "compute");
        assert!(
            loaded.is_ok() || refused_here(&loaded),
            "freplace: {loaded:?}"
        );
        if loaded.is_ok() {
            program.attach().unwrap();
        }
        pass.keep(target_fd);
        pass.keep(extension);
    } else {
        // The cases are here; this kernel lacks their program types.
        pass.covered.extend(["freplace", "syscall"]);
    }

    let mut perf = for_this_thread(PERF);
    let program: &mut PerfEvent = pass.program(&mut perf, "count_samples");
    program.load().unwrap();
    program
        .attach(
            PerfTypeId::Software,
            bpf_sys::generated::perf_sw_ids::PERF_COUNT_SW_TASK_CLOCK as u64,
            PerfEventScope::CallingProcessAnyCpu,
            SamplePolicy::Period(100_000),
            false,
        )
        .unwrap();
    assert!(wait_for_hits(&perf, 0) >= 1, "perf event sampled");
    pass.keep(perf);

    let mut iter = for_this_thread(ITER);
    let program: &mut Iter = pass.program(&mut iter, "dump_tasks");
    program.load().unwrap();
    let link = program.attach().unwrap();
    let mut text = String::new();
    program
        .open(link)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(!text.is_empty(), "the task iterator printed");
    pass.keep(iter);

    if syscall_programs {
        let mut syscall = BpfLoader::new().load(SYSCALL).unwrap();
        let program: &mut Syscall = pass.program(&mut syscall, "multiply");
        program.load().unwrap();
        let mut args = [0u8; 16];
        args[..4].copy_from_slice(&6u32.to_ne_bytes());
        args[4..8].copy_from_slice(&7u32.to_ne_bytes());
        assert_eq!(program.run(&args).unwrap(), 13);
        pass.keep(syscall);
    }

    let mut struct_ops = BpfLoader::new().load(STRUCT_OPS).unwrap();
    let name = format!("fdleak{}", std::process::id() % 100_000_000);
    struct_ops
        .struct_ops_mut("bpf_test_cc_link")
        .unwrap()
        .set_member_str("name", &name)
        .unwrap();
    match struct_ops.register_struct_ops("bpf_test_cc_link") {
        Ok(link) => pass.keep(link),
        Err(e) => assert_eq!(e.errno(), Some(libc::EPERM), "struct_ops: {e}"),
    }
    let program = struct_ops.program_mut("test_cc_init").unwrap();
    pass.covered.insert(program.type_name());
    pass.keep(struct_ops);

    let mut unsupported = BpfLoader::new().load(UNSUPPORTED).unwrap();
    let program = unsupported.program_mut("pass_action").unwrap();
    pass.covered.insert(program.type_name());
    program.load().unwrap();
    pass.keep(unsupported);

    // Kfuncs of a module keep the module's BTF fd open for the object's loads.
    let mut kfuncs = bpf_programs::Bpf::load(MODULE_KFUNCS).unwrap();
    let _ = kfuncs.program_mut("lookup_conntrack").unwrap().load();
    pass.keep(kfuncs);

    // Arenas keep a mapping beside their fd.
    if arena_creatable() {
        let mut arena = bpf_programs::Bpf::load(ARENA).unwrap();
        let program: &mut Syscall = pass.program(&mut arena, "arena_alloc");
        program.load().unwrap();
        program.run(&[]).unwrap();
        pass.keep(arena);
    }
}

/// Kernels name the getpid entry differently in BTF.
const GETPID: &[&str] = &["__x64_sys_getpid", "__do_sys_getpid"];

fn load_getpid(program: &mut FEntry) -> Result<(), ProgramError> {
    let mut result = Ok(());
    for function in GETPID {
        result = program.load_target(function);
        if !matches!(result, Err(ProgramError::FEntry(_))) {
            break;
        }
    }
    result
}

fn load_getpid_exit(program: &mut FExit) -> Result<(), ProgramError> {
    let mut result = Ok(());
    for function in GETPID {
        result = program.load_target(function);
        if !matches!(result, Err(ProgramError::FEntry(_))) {
            break;
        }
    }
    result
}

fn reuseport_socket(port: u16) -> UdpSocket {
    let sock = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
    set_int_option(sock.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1).unwrap();
    bind_ipv4(
        sock.as_fd(),
        std::net::SocketAddrV4::new([127, 0, 0, 1].into(), port),
    )
    .unwrap();
    UdpSocket::from(sock)
}

fn networking(pass: &mut Pass, netns: &TestNetns) {
    let udp = format!("127.0.0.1:{PORT}");
    let mut net = net_object(NET);
    let program: &mut Xdp = pass.program(&mut net, "count_xdp");
    program.load().unwrap();
    program.attach("lo", XdpFlags::SKB_MODE).unwrap();
    let program: &mut SchedClassifier = pass.program(&mut net, "count_tc");
    program.load().unwrap();
    program.attach("lo", TcAttachType::Ingress).unwrap();
    let program: &mut SchedClassifier = pass.program(&mut net, "count_tcx");
    program.load().unwrap();
    if kernel_knows("BPF_TCX_INGRESS") {
        program
            .attach_with_options("lo", TcAttachType::Egress, TcAttachOptions::Tcx)
            .unwrap();
    }
    let receiver = UdpSocket::bind(("127.0.0.1", PORT + 1)).unwrap();
    let program: &mut SocketFilter = pass.program(&mut net, "count_socket");
    program.load().unwrap();
    program.attach(&receiver).unwrap();
    let program: &mut SkLookup = pass.program(&mut net, "count_lookup");
    program.load().unwrap();
    program.attach(&netns.file).unwrap();
    let program: &mut FlowDissector = pass.program(&mut net, "count_flow");
    program.load().unwrap();
    program.attach(&netns.file).unwrap();
    let group = [reuseport_socket(PORT), reuseport_socket(PORT)];
    let program: &mut SkReuseport = pass.program(&mut net, "count_reuseport");
    program.load().unwrap();
    program.attach(&group[0]).unwrap();
    let program: &mut Netfilter = pass.program(&mut net, "count_netfilter");
    let loaded = program.load();
    assert!(
        loaded.is_ok() || !kernel_knows("BPF_NETFILTER"),
        "{loaded:?}"
    );
    if loaded.is_ok() {
        program
            .attach(NetfilterAttachOptions {
                family: NetfilterFamily::Ipv4,
                hook: NetfilterHook::LocalIn,
                priority: -128,
                defrag: false,
            })
            .unwrap();
    }
    send_udp(&udp, 1);
    send_udp(&format!("127.0.0.1:{}", PORT + 1), 1);
    // Receiving runs in softirq context, which a loaded or emulated machine may defer: once
    // both datagrams are delivered, every program on their way has run.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut delivered = [false; 2];
    while delivered != [true; 2] && Instant::now() < deadline {
        for socket in group.iter().chain([&receiver]) {
            socket.set_nonblocking(true).unwrap();
        }
        delivered[0] |= group.iter().any(|s| s.recv(&mut [0u8; 16]).is_ok());
        delivered[1] |= receiver.recv(&mut [0u8; 16]).is_ok();
        std::thread::sleep(Duration::from_millis(1));
    }
    for (key, what) in [
        (0, "xdp"),
        (2, "tc"),
        (4, "socket filter"),
        (8, "reuseport"),
    ] {
        assert!(value_at(&net, "hits", key) >= 1, "{what} ran");
    }
    pass.keep((receiver, group));
    pass.keep(net);

    let mut netkit = net_object(NETKIT);
    let program: &mut Netkit = pass.program(&mut netkit, "count_primary");
    let loaded = program.load();
    assert!(
        loaded.is_ok() || !kernel_knows("BPF_NETKIT_PRIMARY"),
        "{loaded:?}"
    );
    if loaded.is_ok() && netkit_add("nka", "nkb", NetkitMode::L3).is_ok() {
        program.attach("nka", NetkitAttachType::Primary).unwrap();
    }
    pass.keep(netkit);

    let mut sockmap = BpfLoader::new().load(SOCKMAP).unwrap();
    let map: SockMap<MapData> = SockMap::create(2, 0).unwrap();
    let program: &mut SkMsg = pass.program(&mut sockmap, "count_msg");
    program.load().unwrap();
    program.attach(map.fd()).unwrap();
    let program: &mut SkSkb = pass.program(&mut sockmap, "judge_stream");
    program.load().unwrap();
    program.attach(map.fd()).unwrap();
    pass.keep(sockmap);
    pass.keep(map);

    let mut lirc = BpfLoader::new().load(LIRC).unwrap();
    let program: &mut LircMode2 = pass.program(&mut lirc, "decode_ir");
    let loaded = program.load();
    assert!(
        loaded.is_ok() || refused_here(&loaded),
        "lirc_mode2: {loaded:?}"
    );
    if let (Ok(()), Ok(device)) = (loaded, std::fs::File::open("/dev/lirc0")) {
        program.attach(&device).unwrap();
        pass.keep(device);
    }
    pass.keep(lirc);
}

fn cgroups(pass: &mut Pass, cgroup: &TestCgroup) {
    let mut bpf = open_cgroup_object(PORT);
    let mode = CgroupAttachMode::AllowMultiple;
    let program: &mut CgroupSkb = pass.program(&mut bpf, "count_egress");
    program.load().unwrap();
    program
        .attach(&cgroup.dir, CgroupSkbAttachType::Egress, mode)
        .unwrap();
    let program: &mut CgroupSock = pass.program(&mut bpf, "count_sock_create");
    program.load().unwrap();
    program.attach(&cgroup.dir, mode).unwrap();
    let program: &mut CgroupSockAddr = pass.program(&mut bpf, "count_connect4");
    program.load().unwrap();
    // Single mode: BPF_PROG_ATTACH, the other attachment kind.
    program
        .attach(&cgroup.dir, CgroupAttachMode::Single)
        .unwrap();
    let program: &mut CgroupSockopt = pass.program(&mut bpf, "count_getsockopt");
    program.load().unwrap();
    program.attach(&cgroup.dir, mode).unwrap();
    let program: &mut CgroupSysctl = pass.program(&mut bpf, "count_sysctl");
    program.load().unwrap();
    program.attach(&cgroup.dir, mode).unwrap();
    let program: &mut CgroupDevice = pass.program(&mut bpf, "count_dev");
    program.load().unwrap();
    program.attach(&cgroup.dir, mode).unwrap();
    let program: &mut SockOps = pass.program(&mut bpf, "count_sockops");
    program.load().unwrap();
    program.attach(&cgroup.dir, mode).unwrap();
    pass.keep(bpf);
}

fn exercise() -> BTreeSet<&'static str> {
    let mut pass = Pass::default();
    let netns = TestNetns::enter();
    let cgroup = TestCgroup::new();
    tracing(&mut pass);
    networking(&mut pass, &netns);
    cgroups(&mut pass, &cgroup);
    let covered = std::mem::take(&mut pass.covered);
    drop(pass);
    drop(cgroup);
    drop(netns);
    covered
}

#[test]
fn dropping_everything_closes_every_fd() {
    // The first run fills process-wide caches (feature probes, kernel BTF), which hold no fds.
    let covered = exercise();
    let missing: Vec<_> = ALL_TYPES.iter().filter(|t| !covered.contains(*t)).collect();
    assert!(
        missing.is_empty(),
        "program types without a case: {missing:?}"
    );
    let before = open_fd_count();
    exercise();
    assert_eq!(open_fd_count(), before, "fds leaked");
}
