//! BPF_LINK_CREATE variants (tcx, xdp, netfilter, iterators) and ring buffer plumbing.

mod common;

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;
use std::time::Duration;

use bpf_sys::attach::{AttachTarget, Relative, prog_query};
use bpf_sys::epoll::Epoll;
use bpf_sys::generated::{
    XDP_FLAGS_SKB_MODE, bpf_attach_type, bpf_func_id, bpf_link_type, bpf_map_type, bpf_prog_type,
};
use bpf_sys::info::{link_info, prog_info};
use bpf_sys::insn;
use bpf_sys::link::{LinkCreateAttr, LinkKind, LinkTarget, link_create, link_update};
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::misc::iter_create;
use bpf_sys::mmap::MmapRegion;
use bpf_sys::netlink::if_nametoindex;
use bpf_sys::netlink::xdp::xdp_query;
use bpf_sys::prog::{ProgLoadAttr, prog_load};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};
use bpf_sys::util::page_size;
use common::{Veth, counter_map, counting_prog, read_counter, send_frame};

#[test]
fn tcx_link_query_revision_update_and_fire() {
    if common::kernel_lacks(
        "links::tcx_link_query_revision_update_and_fire",
        "BPF_TCX_INGRESS",
        "tcx links",
    ) {
        return;
    }
    let veth = Veth::new();
    let ifindex = if_nametoindex(&veth.name).unwrap();
    let peer = if_nametoindex(&veth.peer).unwrap();
    let ingress = bpf_attach_type::BPF_TCX_INGRESS;
    let counter = counter_map("sys_tcx_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS,
        ingress,
        "sys_tcx",
        &counter,
        -1, // TC_NEXT
    );
    let link = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::Ifindex(ifindex),
        attach_type: ingress,
        flags: 0,
        kind: LinkKind::Tcx {
            relative: Relative::None,
            expected_revision: 0,
        },
    })
    .unwrap();
    let info = link_info(link.as_fd()).unwrap();
    let link_id = info.id();
    assert_eq!(
        info.details(),
        bpf_sys::info::LinkDetails::Tcx {
            ifindex,
            attach_type: ingress
        }
    );
    let query = prog_query(AttachTarget::Ifindex(ifindex), ingress, 0).unwrap();
    assert_eq!(query.prog_ids, vec![prog_info(prog.as_fd()).unwrap().id()]);
    assert_eq!(query.link_ids, vec![link_id]);
    assert_ne!(query.revision, 0);

    send_frame(peer);
    assert!(read_counter(&counter) >= 1, "tcx program did not run");

    let second = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_SCHED_CLS,
        ingress,
        "sys_tcx2",
        &counter,
        -1,
    );
    link_update(link.as_fd(), second.as_fd(), None, 0).unwrap();
    let query = prog_query(AttachTarget::Ifindex(ifindex), ingress, 0).unwrap();
    assert_eq!(
        query.prog_ids,
        vec![prog_info(second.as_fd()).unwrap().id()]
    );
    drop(link);
    common::eventually("the tcx link is still attached after close", || {
        prog_query(AttachTarget::Ifindex(ifindex), ingress, 0)
            .unwrap()
            .prog_ids
            .is_empty()
    });
}

#[test]
fn xdp_link_fires_and_detaches_on_close() {
    let veth = Veth::new();
    let ifindex = if_nametoindex(&veth.name).unwrap();
    let peer = if_nametoindex(&veth.peer).unwrap();
    let counter = counter_map("sys_xdpl_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_XDP,
        bpf_attach_type::BPF_XDP,
        "sys_xdp_link",
        &counter,
        2,
    );
    let link = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::Ifindex(ifindex),
        attach_type: bpf_attach_type::BPF_XDP,
        flags: XDP_FLAGS_SKB_MODE,
        kind: LinkKind::Plain,
    })
    .unwrap();
    let info = link_info(link.as_fd()).unwrap();
    assert_eq!(info.link_type(), bpf_link_type::BPF_LINK_TYPE_XDP);
    assert_eq!(info.details(), bpf_sys::info::LinkDetails::Xdp { ifindex });
    assert_eq!(
        xdp_query(ifindex).unwrap().prog_id,
        prog_info(prog.as_fd()).unwrap().id()
    );
    send_frame(peer);
    assert!(read_counter(&counter) >= 1, "xdp link program did not run");
    drop(link);
    common::eventually("the xdp link is still attached after close", || {
        xdp_query(ifindex).unwrap().prog_id == 0
    });
}

#[test]
fn netfilter_link_sees_local_output() {
    if common::kernel_lacks(
        "links::netfilter_link_sees_local_output",
        "BPF_PROG_TYPE_NETFILTER",
        "netfilter programs",
    ) {
        return;
    }
    let counter = counter_map("sys_nf_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_NETFILTER,
        bpf_attach_type::BPF_NETFILTER,
        "sys_nf",
        &counter,
        1, // NF_ACCEPT
    );
    let _link = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::None,
        attach_type: bpf_attach_type::BPF_NETFILTER,
        flags: 0,
        kind: LinkKind::Netfilter {
            pf: libc::NFPROTO_IPV4 as u32,
            hooknum: 3, // NF_INET_LOCAL_OUT
            priority: -128,
            flags: 0,
        },
    })
    .unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"x", "127.0.0.1:9").unwrap();
    assert!(read_counter(&counter) >= 1, "netfilter program did not run");
}

#[test]
fn task_iterator_runs_when_read() {
    let Some(btf_id) = common::vmlinux_func_id("bpf_iter_task") else {
        println!(
            "SKIPPED links::task_iterator_runs_when_read: the kernel's BTF has no bpf_iter_task \
             (or there is none)"
        );
        return;
    };
    let counter = counter_map("sys_iter_count");
    let [ld0, ld1] = insn::ld_map_fd(1, counter.fd().as_raw_fd());
    let insns = common::counting_insns(ld0, ld1, 0);
    let prog = prog_load(&ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_TRACING,
        expected_attach_type: bpf_attach_type::BPF_TRACE_ITER,
        attach_btf_id: btf_id,
        name: "sys_iter_task",
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .unwrap();
    let link = link_create(&LinkCreateAttr {
        prog_fd: prog.as_fd(),
        target: LinkTarget::None,
        attach_type: bpf_attach_type::BPF_TRACE_ITER,
        flags: 0,
        kind: LinkKind::Iter(None),
    })
    .unwrap();
    let mut iter = std::fs::File::from(iter_create(link.as_fd(), 0).unwrap());
    let mut out = Vec::new();
    iter.read_to_end(&mut out).unwrap();
    assert!(out.is_empty());
    // One call per task plus the final one; this process alone has several threads.
    assert!(read_counter(&counter) >= 2, "iterator did not run");
}

#[test]
fn ring_buffer_record_via_mmap_and_epoll() {
    let page = page_size();
    let size = page * 4;
    let ring = MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_RINGBUF,
        max_entries: size as u32,
        name: "sys_ringbuf",
        ..Default::default()
    })
    .unwrap();
    // *(u64 *)(fp - 8) = 42; bpf_ringbuf_output(ring, fp - 8, 8, 0); return 0
    let [ld0, ld1] = insn::ld_map_fd(1, ring.fd().as_raw_fd());
    let insns = [
        insn::st_mem(insn::BPF_DW, 10, -8, 42),
        ld0,
        ld1,
        insn::mov64_reg(2, 10),
        insn::add64_imm(2, -8),
        insn::mov64_imm(3, 8),
        insn::mov64_imm(4, 0),
        insn::call_helper(bpf_func_id::BPF_FUNC_ringbuf_output),
        insn::mov64_imm(0, 0),
        insn::exit(),
    ];
    let prog = prog_load(&ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        name: "sys_rb_out",
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .unwrap();

    let consumer = MmapRegion::new(ring.fd(), page, 0, true).unwrap();
    let producer = MmapRegion::new(ring.fd(), page + 2 * size, page, false).unwrap();
    let epoll = Epoll::new().unwrap();
    epoll.add(ring.fd(), 7).unwrap();
    let mut ready = [0u64; 4];
    assert_eq!(
        epoll
            .wait(&mut ready, Some(Duration::from_millis(0)))
            .unwrap(),
        0
    );

    prog_test_run(
        prog.as_fd(),
        TestRunAttr {
            data_in: &[0u8; 64],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        epoll
            .wait(&mut ready, Some(Duration::from_secs(1)))
            .unwrap(),
        1
    );
    assert_eq!(ready[0], 7);

    let consumer_pos = consumer.load_u64(0, Ordering::Acquire).unwrap();
    let producer_pos = producer.load_u64(0, Ordering::Acquire).unwrap();
    assert_eq!(producer_pos - consumer_pos, 16); // 8-byte header + 8-byte record
    let header = page + (consumer_pos as usize % size);
    let len = producer.load_u32(header, Ordering::Acquire).unwrap();
    assert_eq!(len, 8); // neither busy nor discarded
    let mut record = [0u8; 8];
    producer.read(header + 8, &mut record).unwrap();
    assert_eq!(u64::from_ne_bytes(record), 42);
    consumer
        .store_u64(0, producer_pos, Ordering::Release)
        .unwrap();
    assert!(producer.store_u64(0, 0, Ordering::Release).is_none());
}
