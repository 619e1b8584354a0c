//! Section names → program kind, attach target, kernel prog type and expected attach type.

use bpf_core::obj::{Object, ProgramSection as S, Tracepoint, UprobeTarget, UsdtTarget};
use bpf_sys::generated::{bpf_attach_type as at, bpf_prog_type as pt};

fn check(name: &str, expected: S, prog_type: pt::Type, attach: Option<at::Type>) {
    let parsed = S::parse(name);
    assert_eq!(parsed, expected, "section `{name}`");
    assert_eq!(parsed.prog_type(), Some(prog_type), "prog type of `{name}`");
    assert_eq!(
        parsed.expected_attach_type(),
        attach,
        "attach type of `{name}`"
    );
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn tracing_sections() {
    check(
        "kprobe/do_sys_open",
        S::KProbe {
            function: some("do_sys_open"),
            offset: 0,
            retprobe: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    check(
        "kretprobe/vfs_read+0x10",
        S::KProbe {
            function: some("vfs_read"),
            offset: 16,
            retprobe: true,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    check(
        "kprobe.multi/tcp_*",
        S::KProbeMulti {
            pattern: some("tcp_*"),
            retprobe: false,
            session: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        Some(at::BPF_TRACE_KPROBE_MULTI),
    );
    check(
        "kretprobe.multi/vfs_*",
        S::KProbeMulti {
            pattern: some("vfs_*"),
            retprobe: true,
            session: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        Some(at::BPF_TRACE_KPROBE_MULTI),
    );
    check(
        "uprobe//usr/lib/libc.so.6:malloc+8",
        S::UProbe {
            target: Some(UprobeTarget {
                binary: "/usr/lib/libc.so.6".into(),
                function: some("malloc"),
                offset: 8,
            }),
            retprobe: false,
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    check(
        "uretprobe.s/libc.so.6:0x1234",
        S::UProbe {
            target: Some(UprobeTarget {
                binary: "libc.so.6".into(),
                function: None,
                offset: 0x1234,
            }),
            retprobe: true,
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    check(
        "uprobe",
        S::UProbe {
            target: None,
            retprobe: false,
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    check(
        "uprobe.multi//bin/bash:readline*",
        S::UProbeMulti {
            target: some("/bin/bash:readline*"),
            retprobe: false,
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        Some(at::BPF_TRACE_UPROBE_MULTI),
    );
    check(
        "uretprobe.multi.s/x:y",
        S::UProbeMulti {
            target: some("x:y"),
            retprobe: true,
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        Some(at::BPF_TRACE_UPROBE_MULTI),
    );
    let tp = |c: &str, n: &str| S::TracePoint {
        target: Some(Tracepoint {
            category: c.into(),
            name: n.into(),
        }),
    };
    check(
        "tracepoint/sched/sched_switch",
        tp("sched", "sched_switch"),
        pt::BPF_PROG_TYPE_TRACEPOINT,
        None,
    );
    check(
        "tp/syscalls/sys_enter_write",
        tp("syscalls", "sys_enter_write"),
        pt::BPF_PROG_TYPE_TRACEPOINT,
        None,
    );
    check(
        "raw_tracepoint/sched_switch",
        S::RawTracePoint {
            name: some("sched_switch"),
            writable: false,
        },
        pt::BPF_PROG_TYPE_RAW_TRACEPOINT,
        None,
    );
    check(
        "raw_tp/sys_enter",
        S::RawTracePoint {
            name: some("sys_enter"),
            writable: false,
        },
        pt::BPF_PROG_TYPE_RAW_TRACEPOINT,
        None,
    );
    check(
        "raw_tp.w/bpf_test_finish",
        S::RawTracePoint {
            name: some("bpf_test_finish"),
            writable: true,
        },
        pt::BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
        None,
    );
    check(
        "tp_btf/sched_switch",
        S::BtfTracePoint {
            name: some("sched_switch"),
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_TRACE_RAW_TP),
    );
    check(
        "fentry/do_unlinkat",
        S::FEntry {
            function: some("do_unlinkat"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_TRACE_FENTRY),
    );
    check(
        "fentry.s/do_unlinkat",
        S::FEntry {
            function: some("do_unlinkat"),
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_TRACE_FENTRY),
    );
    check(
        "fexit/vfs_read",
        S::FExit {
            function: some("vfs_read"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_TRACE_FEXIT),
    );
    check(
        "fmod_ret/security_x",
        S::FModRet {
            function: some("security_x"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_MODIFY_RETURN),
    );
    check(
        "lsm/file_open",
        S::Lsm {
            hook: some("file_open"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_LSM,
        Some(at::BPF_LSM_MAC),
    );
    check(
        "lsm.s/bprm_committed_creds",
        S::Lsm {
            hook: some("bprm_committed_creds"),
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_LSM,
        Some(at::BPF_LSM_MAC),
    );
    check(
        "iter/task",
        S::Iter {
            target: some("task"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_TRACE_ITER),
    );
    check(
        "iter.s/task_file",
        S::Iter {
            target: some("task_file"),
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_TRACING,
        Some(at::BPF_TRACE_ITER),
    );
    check(
        "freplace/handler",
        S::Extension {
            function: some("handler"),
        },
        pt::BPF_PROG_TYPE_EXT,
        None,
    );
    check(
        "perf_event",
        S::PerfEvent,
        pt::BPF_PROG_TYPE_PERF_EVENT,
        None,
    );
    check("syscall", S::Syscall, pt::BPF_PROG_TYPE_SYSCALL, None);
    check(
        "struct_ops/cong_avoid",
        S::StructOps {
            member: some("cong_avoid"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_STRUCT_OPS,
        None,
    );
    check(
        "struct_ops.s/init",
        S::StructOps {
            member: some("init"),
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_STRUCT_OPS,
        None,
    );
    check(
        "struct_ops",
        S::StructOps {
            member: None,
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_STRUCT_OPS,
        None,
    );
}

#[test]
fn networking_sections() {
    let xdp = |frags, a| S::Xdp {
        frags,
        attach_type: a,
    };
    check(
        "xdp",
        xdp(false, at::BPF_XDP),
        pt::BPF_PROG_TYPE_XDP,
        Some(at::BPF_XDP),
    );
    check(
        "xdp.frags",
        xdp(true, at::BPF_XDP),
        pt::BPF_PROG_TYPE_XDP,
        Some(at::BPF_XDP),
    );
    check(
        "xdp/devmap",
        xdp(false, at::BPF_XDP_DEVMAP),
        pt::BPF_PROG_TYPE_XDP,
        Some(at::BPF_XDP_DEVMAP),
    );
    check(
        "xdp/cpumap",
        xdp(false, at::BPF_XDP_CPUMAP),
        pt::BPF_PROG_TYPE_XDP,
        Some(at::BPF_XDP_CPUMAP),
    );
    check(
        "xdp.frags/devmap",
        xdp(true, at::BPF_XDP_DEVMAP),
        pt::BPF_PROG_TYPE_XDP,
        Some(at::BPF_XDP_DEVMAP),
    );
    check("tc", S::SchedClassifier, pt::BPF_PROG_TYPE_SCHED_CLS, None);
    check(
        "classifier",
        S::SchedClassifier,
        pt::BPF_PROG_TYPE_SCHED_CLS,
        None,
    );
    check(
        "tcx/ingress",
        S::Tcx {
            attach_type: at::BPF_TCX_INGRESS,
        },
        pt::BPF_PROG_TYPE_SCHED_CLS,
        Some(at::BPF_TCX_INGRESS),
    );
    check(
        "tcx/egress",
        S::Tcx {
            attach_type: at::BPF_TCX_EGRESS,
        },
        pt::BPF_PROG_TYPE_SCHED_CLS,
        Some(at::BPF_TCX_EGRESS),
    );
    check(
        "tc/ingress",
        S::Tcx {
            attach_type: at::BPF_TCX_INGRESS,
        },
        pt::BPF_PROG_TYPE_SCHED_CLS,
        Some(at::BPF_TCX_INGRESS),
    );
    check(
        "netkit/primary",
        S::Netkit {
            attach_type: at::BPF_NETKIT_PRIMARY,
        },
        pt::BPF_PROG_TYPE_SCHED_CLS,
        Some(at::BPF_NETKIT_PRIMARY),
    );
    check(
        "netkit/peer",
        S::Netkit {
            attach_type: at::BPF_NETKIT_PEER,
        },
        pt::BPF_PROG_TYPE_SCHED_CLS,
        Some(at::BPF_NETKIT_PEER),
    );
    check(
        "socket",
        S::SocketFilter,
        pt::BPF_PROG_TYPE_SOCKET_FILTER,
        None,
    );
    check(
        "cgroup_skb/ingress",
        S::CgroupSkb {
            attach_type: Some(at::BPF_CGROUP_INET_INGRESS),
        },
        pt::BPF_PROG_TYPE_CGROUP_SKB,
        Some(at::BPF_CGROUP_INET_INGRESS),
    );
    check(
        "cgroup_skb/egress",
        S::CgroupSkb {
            attach_type: Some(at::BPF_CGROUP_INET_EGRESS),
        },
        pt::BPF_PROG_TYPE_CGROUP_SKB,
        Some(at::BPF_CGROUP_INET_EGRESS),
    );
    check(
        "cgroup/skb",
        S::CgroupSkb { attach_type: None },
        pt::BPF_PROG_TYPE_CGROUP_SKB,
        None,
    );
    for (name, attach) in [
        ("sock_create", at::BPF_CGROUP_INET_SOCK_CREATE),
        ("sock", at::BPF_CGROUP_INET_SOCK_CREATE),
        ("sock_release", at::BPF_CGROUP_INET_SOCK_RELEASE),
        ("post_bind4", at::BPF_CGROUP_INET4_POST_BIND),
        ("post_bind6", at::BPF_CGROUP_INET6_POST_BIND),
    ] {
        check(
            &format!("cgroup/{name}"),
            S::CgroupSock {
                attach_type: attach,
            },
            pt::BPF_PROG_TYPE_CGROUP_SOCK,
            Some(attach),
        );
    }
    for (name, attach) in [
        ("connect4", at::BPF_CGROUP_INET4_CONNECT),
        ("connect6", at::BPF_CGROUP_INET6_CONNECT),
        ("connect_unix", at::BPF_CGROUP_UNIX_CONNECT),
        ("bind4", at::BPF_CGROUP_INET4_BIND),
        ("bind6", at::BPF_CGROUP_INET6_BIND),
        ("sendmsg4", at::BPF_CGROUP_UDP4_SENDMSG),
        ("sendmsg6", at::BPF_CGROUP_UDP6_SENDMSG),
        ("sendmsg_unix", at::BPF_CGROUP_UNIX_SENDMSG),
        ("recvmsg4", at::BPF_CGROUP_UDP4_RECVMSG),
        ("recvmsg6", at::BPF_CGROUP_UDP6_RECVMSG),
        ("recvmsg_unix", at::BPF_CGROUP_UNIX_RECVMSG),
        ("getpeername4", at::BPF_CGROUP_INET4_GETPEERNAME),
        ("getpeername6", at::BPF_CGROUP_INET6_GETPEERNAME),
        ("getsockname4", at::BPF_CGROUP_INET4_GETSOCKNAME),
        ("getsockname6", at::BPF_CGROUP_INET6_GETSOCKNAME),
    ] {
        check(
            &format!("cgroup/{name}"),
            S::CgroupSockAddr {
                attach_type: attach,
            },
            pt::BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
            Some(attach),
        );
    }
    check(
        "cgroup/getsockopt",
        S::CgroupSockopt {
            attach_type: at::BPF_CGROUP_GETSOCKOPT,
        },
        pt::BPF_PROG_TYPE_CGROUP_SOCKOPT,
        Some(at::BPF_CGROUP_GETSOCKOPT),
    );
    check(
        "cgroup/setsockopt",
        S::CgroupSockopt {
            attach_type: at::BPF_CGROUP_SETSOCKOPT,
        },
        pt::BPF_PROG_TYPE_CGROUP_SOCKOPT,
        Some(at::BPF_CGROUP_SETSOCKOPT),
    );
    check(
        "cgroup/sysctl",
        S::CgroupSysctl,
        pt::BPF_PROG_TYPE_CGROUP_SYSCTL,
        Some(at::BPF_CGROUP_SYSCTL),
    );
    check(
        "cgroup/dev",
        S::CgroupDevice,
        pt::BPF_PROG_TYPE_CGROUP_DEVICE,
        Some(at::BPF_CGROUP_DEVICE),
    );
    check(
        "sockops",
        S::SockOps,
        pt::BPF_PROG_TYPE_SOCK_OPS,
        Some(at::BPF_CGROUP_SOCK_OPS),
    );
    check(
        "sk_msg",
        S::SkMsg,
        pt::BPF_PROG_TYPE_SK_MSG,
        Some(at::BPF_SK_MSG_VERDICT),
    );
    check(
        "sk_skb",
        S::SkSkb { attach_type: None },
        pt::BPF_PROG_TYPE_SK_SKB,
        None,
    );
    check(
        "sk_skb/stream_parser",
        S::SkSkb {
            attach_type: Some(at::BPF_SK_SKB_STREAM_PARSER),
        },
        pt::BPF_PROG_TYPE_SK_SKB,
        Some(at::BPF_SK_SKB_STREAM_PARSER),
    );
    check(
        "sk_skb/stream_verdict",
        S::SkSkb {
            attach_type: Some(at::BPF_SK_SKB_STREAM_VERDICT),
        },
        pt::BPF_PROG_TYPE_SK_SKB,
        Some(at::BPF_SK_SKB_STREAM_VERDICT),
    );
    check(
        "sk_lookup",
        S::SkLookup,
        pt::BPF_PROG_TYPE_SK_LOOKUP,
        Some(at::BPF_SK_LOOKUP),
    );
    check(
        "flow_dissector",
        S::FlowDissector,
        pt::BPF_PROG_TYPE_FLOW_DISSECTOR,
        Some(at::BPF_FLOW_DISSECTOR),
    );
    check(
        "lirc_mode2",
        S::LircMode2,
        pt::BPF_PROG_TYPE_LIRC_MODE2,
        Some(at::BPF_LIRC_MODE2),
    );
    check(
        "sk_reuseport",
        S::SkReuseport { migrate: false },
        pt::BPF_PROG_TYPE_SK_REUSEPORT,
        Some(at::BPF_SK_REUSEPORT_SELECT),
    );
    check(
        "sk_reuseport/migrate",
        S::SkReuseport { migrate: true },
        pt::BPF_PROG_TYPE_SK_REUSEPORT,
        Some(at::BPF_SK_REUSEPORT_SELECT_OR_MIGRATE),
    );
    check(
        "netfilter",
        S::Netfilter,
        pt::BPF_PROG_TYPE_NETFILTER,
        Some(at::BPF_NETFILTER),
    );
}

#[test]
fn unknown_sections_are_not_errors() {
    for name in [
        "my_unknown_section",
        "cgroup/bogus",
        "tcx/sideways",
        "netkit",
        "sk_skb/nope",
        ".text.x",
        "",
    ] {
        let parsed = S::parse(name);
        assert_eq!(parsed, S::Unknown(name.to_owned()));
        assert_eq!(parsed.prog_type(), None);
        assert!(!parsed.sleepable());
    }
}

#[test]
fn sleepable_and_frags_flags() {
    assert!(S::parse("fentry.s/x").sleepable());
    assert!(S::parse("lsm.s/x").sleepable());
    assert!(S::parse("uprobe.s/x:y").sleepable());
    assert!(S::parse("syscall").sleepable());
    assert!(!S::parse("fentry/x").sleepable());
    assert!(S::parse("xdp.frags").xdp_frags());
    assert!(!S::parse("xdp").xdp_frags());
}

#[test]
fn programs_of_a_real_object() {
    let object = Object::parse(include_bytes!("../../tests/bpf/obj/parse_programs.bpf.o")).unwrap();
    let names: Vec<&str> = object.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "xdp_first",
            "xdp_second",
            "xdp_frags_prog",
            "tp_getpid",
            "kprobe_open",
            "uretprobe_sleepable",
            "fentry_unlink",
            "connect4_prog",
            "tc_prog",
            "socket_prog",
            "unknown_prog",
            "optional_prog"
        ]
    );
    let first = object.program("xdp_first").unwrap();
    let second = object.program("xdp_second").unwrap();
    assert_eq!(first.section_name, "xdp");
    assert_eq!(second.section_name, "xdp");
    assert_eq!(first.function.section_index, second.function.section_index);
    assert_ne!(first.function.insn_index, second.function.insn_index);
    assert_eq!(
        object.program("uretprobe_sleepable").unwrap().section,
        S::UProbe {
            target: Some(UprobeTarget {
                binary: "/usr/bin/true".into(),
                function: some("main"),
                offset: 0
            }),
            retprobe: true,
            sleepable: true
        }
    );
    assert_eq!(
        object.program("unknown_prog").unwrap().section,
        S::Unknown("my_unknown_section".into())
    );
    // Functions of .text and .text.helpers are subprograms, not programs.
    for sub in ["global_helper", "static_helper", "other_section_helper"] {
        assert!(object.program(sub).is_none(), "{sub} is not a program");
        assert!(
            object.functions.values().any(|f| f.name == sub),
            "{sub} is a function"
        );
    }
    let optional = object.program("optional_prog").unwrap();
    assert_eq!(
        (optional.section.clone(), optional.autoload),
        (S::SchedClassifier, false)
    );
    assert!(object.program("tc_prog").unwrap().autoload);
    assert_eq!(object.license.as_deref(), Some("Dual BSD/GPL"));
    assert_eq!(object.kernel_version, Some(0x060c00));
}

#[test]
fn usdt_sections() {
    let target = |binary: &str, provider: &str, name: &str| {
        Some(UsdtTarget {
            binary: binary.into(),
            provider: provider.into(),
            name: name.into(),
        })
    };
    check(
        "usdt//usr/lib/libc.so.6:libc:setjmp",
        S::Usdt {
            target: target("/usr/lib/libc.so.6", "libc", "setjmp"),
            sleepable: false,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    check(
        "usdt.s/libc.so.6:libc:memory_malloc_retry",
        S::Usdt {
            target: target("libc.so.6", "libc", "memory_malloc_retry"),
            sleepable: true,
        },
        pt::BPF_PROG_TYPE_KPROBE,
        None,
    );
    for bare in ["usdt", "usdt/"] {
        check(
            bare,
            S::Usdt {
                target: None,
                sleepable: false,
            },
            pt::BPF_PROG_TYPE_KPROBE,
            None,
        );
    }
    assert!(S::parse("usdt.s").sleepable());
    assert!(!S::parse("usdt/a:b:c").sleepable());
    // Not `<binary>:<provider>:<name>`: libbpf rejects these, so they are no usdt section.
    for bad in [
        "usdt/bin",
        "usdt/bin:provider",
        "usdt/bin::name",
        "usdt/:p:n",
        "usdt/bin:p:",
        "usdt/a:b:c:d",
    ] {
        assert_eq!(S::parse(bad), S::Unknown(bad.to_owned()), "{bad}");
    }
}
