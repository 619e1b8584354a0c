//! sk_msg and sk_skb programs on a sockmap: TCP sockets inserted, data sent, programs run.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;

use bpf_programs::maps::{MapData, SockMap};
use bpf_programs::programs::{ProgramError, SkMsg, SkSkb, SkSkbKind};
use bpf_programs::{Bpf, BpfLoader};
use bpf_sys::attach::{AttachTarget, prog_query};
use bpf_sys::generated::bpf_attach_type;
use integration_tests::{kernel_btf_has_name, value_at};

const OBJECT: &[u8] = integration_tests::bpf_object!("net_sockmap.bpf.o");

fn open() -> Bpf {
    BpfLoader::new().load(OBJECT).expect("object opens")
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

/// The programs attached to `map` as `attach_type`, by `BPF_PROG_QUERY`; `None` on kernels that
/// cannot query a sockmap (before `sock_map_bpf_prog_query`, Linux 5.19), where the hit counts
/// alone show what is attached.
fn attached_to(map: &SockMap<MapData>, attach_type: bpf_attach_type::Type) -> Option<Vec<u32>> {
    if !kernel_btf_has_name("sock_map_bpf_prog_query") {
        return None;
    }
    Some(
        prog_query(AttachTarget::Fd(map.fd()), attach_type, 0)
            .unwrap()
            .prog_ids,
    )
}

fn exchange(client: &mut TcpStream, server: &mut TcpStream, rounds: usize) {
    let mut buf = [0u8; 5];
    for _ in 0..rounds {
        client.write_all(b"hello").unwrap();
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
    }
}

#[test]
fn sk_msg_runs_on_sends_until_detached() {
    let mut bpf = open();
    let mut map: SockMap<MapData> = SockMap::create(2, 0).unwrap();
    let program: &mut SkMsg = bpf.program_mut("count_msg").unwrap().try_into().unwrap();
    program.load().unwrap();
    let prog_id = program.info().unwrap().id();
    let link = program.attach(map.fd()).unwrap();
    if let Some(ids) = attached_to(&map, bpf_attach_type::BPF_SK_MSG_VERDICT) {
        assert_eq!(ids, vec![prog_id]);
    }

    let (mut client, mut server) = tcp_pair();
    map.set(0, client.as_fd(), 0).unwrap();
    exchange(&mut client, &mut server, 5);
    assert_eq!(value_at(&bpf, "hits", 0), 5, "sk_msg ran once per send");

    map.clear_index(0).unwrap();
    let program: &mut SkMsg = bpf.program_mut("count_msg").unwrap().try_into().unwrap();
    program.detach(link).unwrap();
    if let Some(ids) = attached_to(&map, bpf_attach_type::BPF_SK_MSG_VERDICT) {
        assert!(ids.is_empty());
    }
    let (mut client, mut server) = tcp_pair();
    map.set(0, client.as_fd(), 0).unwrap();
    exchange(&mut client, &mut server, 3);
    assert_eq!(value_at(&bpf, "hits", 0), 5, "ran after detach");
}

#[test]
fn sk_skb_parser_and_verdict_run_on_receives_until_dropped() {
    let mut bpf = open();
    let mut map: SockMap<MapData> = SockMap::create(2, 0).unwrap();
    let parser: &mut SkSkb = bpf.program_mut("parse_stream").unwrap().try_into().unwrap();
    assert_eq!(parser.kind(), Some(SkSkbKind::StreamParser));
    parser.load().unwrap();
    parser.attach(map.fd()).unwrap();
    let verdict: &mut SkSkb = bpf.program_mut("judge_stream").unwrap().try_into().unwrap();
    verdict.load().unwrap();
    verdict
        .attach_as(map.fd(), SkSkbKind::StreamVerdict)
        .unwrap();

    let (mut client, mut server) = tcp_pair();
    map.set(0, server.as_fd(), 0).unwrap();
    exchange(&mut client, &mut server, 5);
    let parsed = value_at(&bpf, "hits", 1);
    let judged = value_at(&bpf, "hits", 2);
    assert!(
        parsed >= 5 && judged >= 5,
        "parser {parsed}, verdict {judged}"
    );

    map.clear_index(0).unwrap();
    drop(bpf.take_program("parse_stream"));
    drop(bpf.take_program("judge_stream"));
    for attach_type in [
        bpf_attach_type::BPF_SK_SKB_STREAM_PARSER,
        bpf_attach_type::BPF_SK_SKB_STREAM_VERDICT,
    ] {
        if let Some(ids) = attached_to(&map, attach_type) {
            assert!(ids.is_empty(), "still attached: {ids:?}");
        }
    }
    // A socket inserted now gets no programs: traffic leaves the counters alone.
    let (mut client, mut server) = tcp_pair();
    map.set(0, server.as_fd(), 0).unwrap();
    exchange(&mut client, &mut server, 3);
    assert_eq!(value_at(&bpf, "hits", 1), parsed, "parser ran after drop");
    assert_eq!(value_at(&bpf, "hits", 2), judged, "verdict ran after drop");
}

#[test]
fn sk_msg_attach_to_non_sockmap_fails_with_errno() {
    let mut bpf = open();
    let program: &mut SkMsg = bpf.program_mut("count_msg").unwrap().try_into().unwrap();
    program.load().unwrap();
    let not_a_map = std::fs::File::open("/dev/null").unwrap();
    let err = program.attach(&not_a_map).unwrap_err();
    // The kernel looks the fd up as a map and finds a plain file: EINVAL from BPF_PROG_ATTACH,
    // reported with the program's name.
    assert!(
        matches!(&err, ProgramError::ProgramSyscall { program, what, .. }
            if program == "count_msg" && *what == "BPF_PROG_ATTACH"),
        "{err:?}"
    );
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err:?}");
}
