//! Socket filters, mmap of array maps, BTF loads and run-time statistics.

mod common;

use std::net::UdpSocket;
use std::os::fd::AsFd;

use bpf_sys::btf::btf_load;
use bpf_sys::generated::{bpf_map_type, bpf_prog_type, bpf_stats_type};
use bpf_sys::info::{btf_data, btf_info, prog_info};
use bpf_sys::map::{MapCreateAttr, MapFd};
use bpf_sys::misc::enable_stats;
use bpf_sys::mmap::MmapRegion;
use bpf_sys::socket::{attach_socket_filter, detach_socket_filter};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};
use bpf_sys::util::page_size;
use bpf_sys::{BpfCommand, Command};
use common::{counter_map, counting_prog, read_counter, return_prog};

#[test]
fn socket_filter_drops_until_detached() {
    let counter = counter_map("sys_sf_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        0,
        "sys_sf_drop",
        &counter,
        0,
    );
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_nonblocking(true).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buf = [0u8; 16];

    attach_socket_filter(rx.as_fd(), prog.as_fd()).unwrap();
    tx.send_to(b"dropped", rx.local_addr().unwrap()).unwrap();
    let err = rx.recv(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    assert!(read_counter(&counter) >= 1, "socket filter did not run");

    detach_socket_filter(rx.as_fd()).unwrap();
    tx.send_to(b"passed", rx.local_addr().unwrap()).unwrap();
    rx.set_nonblocking(false).unwrap();
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"passed");

    let err = detach_socket_filter(rx.as_fd()).unwrap_err();
    assert_eq!(
        err.command,
        Command::Setsockopt(bpf_sys::SocketOption::DetachBpf)
    );
    assert_eq!(err.errno(), Some(libc::ENOENT));
}

#[test]
fn mmapable_array_shares_memory_with_the_map() {
    let entries = (page_size() / 8) as u32;
    let map = MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: entries,
        map_flags: bpf_sys::flags::map::BPF_F_MMAPABLE,
        name: "sys_mmap",
        ..Default::default()
    })
    .unwrap();
    let mut region = MmapRegion::new(map.fd(), page_size(), 0, true).unwrap();
    map.update(&3u32.to_ne_bytes(), &77u64.to_ne_bytes(), 0)
        .unwrap();
    let mut word = [0u8; 8];
    region.read(24, &mut word).unwrap();
    assert_eq!(u64::from_ne_bytes(word), 77);
    region.write(40, &99u64.to_ne_bytes()).unwrap();
    assert!(map.lookup(&5u32.to_ne_bytes(), &mut word, 0).unwrap());
    assert_eq!(u64::from_ne_bytes(word), 99);
    assert!(region.read(page_size() - 4, &mut word).is_none());

    let mut read_only = MmapRegion::new(map.fd(), page_size(), 0, false).unwrap();
    assert!(read_only.write(0, &[1]).is_none());
    assert_eq!(read_only.to_vec()[40], 99);

    let too_big = MmapRegion::new(map.fd(), page_size() * 4, 0, true).unwrap_err();
    assert_eq!(too_big.command, Command::Mmap);
}

#[test]
fn mmap_at_an_address_never_replaces_a_mapping() {
    let map = MapFd::create(&MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 16,
        map_flags: bpf_sys::flags::map::BPF_F_MMAPABLE,
        name: "sys_mmap_at",
        ..Default::default()
    })
    .unwrap();
    let mut first = MmapRegion::new_at(map.fd(), page_size(), None, true).unwrap();
    let address = first.address();
    assert_eq!(address, first.as_ptr() as u64);
    first.write(8, &5u64.to_ne_bytes()).unwrap();

    // The address is taken by `first`: refused, and `first` still holds the map's bytes.
    let taken = MmapRegion::new_at(map.fd(), page_size(), Some(address), true).unwrap_err();
    assert_eq!(taken.command, Command::Mmap);
    assert_eq!(taken.errno(), Some(libc::EEXIST));
    let mut word = [0u8; 8];
    first.read(8, &mut word).unwrap();
    assert_eq!(u64::from_ne_bytes(word), 5);

    let unaligned = MmapRegion::new_at(map.fd(), page_size(), Some(address + 1), true);
    assert_eq!(unaligned.unwrap_err().errno(), Some(libc::EINVAL));
}

/// BTF with a single `int` type; `name_off` lets tests corrupt it.
fn int_btf(name_off: u32) -> Vec<u8> {
    let strings = b"\0int\0";
    let mut types = Vec::new();
    types.extend_from_slice(&name_off.to_ne_bytes());
    types.extend_from_slice(&(1u32 << 24).to_ne_bytes()); // BTF_KIND_INT, no members
    types.extend_from_slice(&4u32.to_ne_bytes()); // size
    types.extend_from_slice(&((1u32 << 24) | 32).to_ne_bytes()); // signed, 32 bits
    let mut btf = Vec::new();
    btf.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    btf.push(1); // version
    btf.push(0); // flags
    btf.extend_from_slice(&24u32.to_ne_bytes()); // hdr_len
    btf.extend_from_slice(&0u32.to_ne_bytes()); // type_off
    btf.extend_from_slice(&(types.len() as u32).to_ne_bytes());
    btf.extend_from_slice(&(types.len() as u32).to_ne_bytes()); // str_off
    btf.extend_from_slice(&(strings.len() as u32).to_ne_bytes());
    btf.extend_from_slice(&types);
    btf.extend_from_slice(strings);
    btf
}

#[test]
fn btf_load_roundtrip_and_rejection_log() {
    let btf = int_btf(1);
    let fd = btf_load(&btf, 0, None).unwrap();
    let info = btf_info(fd.as_fd()).unwrap();
    assert_ne!(info.id(), 0);
    assert!(!info.is_kernel());
    assert_eq!(btf_data(fd.as_fd()).unwrap(), btf);

    let err = btf_load(&int_btf(100), 0, None).unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::BtfLoad));
    assert_eq!(err.errno(), Some(libc::EINVAL));
    assert!(!err.verifier_log.is_empty(), "no BTF log");
    assert!(
        err.verifier_log.text.contains("Invalid name"),
        "{}",
        err.verifier_log
    );
}

#[test]
fn kernel_btf_is_visible_by_id() {
    use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
    let vmlinux = ids(ObjectKind::Btf)
        .filter_map(Result::ok)
        .filter_map(|id| fd_by_id(ObjectKind::Btf, id, 0).ok())
        .filter_map(|fd| btf_info(fd.as_fd()).ok())
        .find(|info| info.name == "vmlinux");
    let Some(vmlinux) = vmlinux else {
        println!("SKIPPED misc::kernel_btf_is_visible_by_id: kernel has no BTF");
        return;
    };
    assert!(vmlinux.is_kernel());
}

#[test]
fn run_time_stats_count_test_runs() {
    let _stats = enable_stats(bpf_stats_type::BPF_STATS_RUN_TIME).unwrap();
    let prog = return_prog(bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER, "sys_stats", 1);
    prog_test_run(
        prog.as_fd(),
        TestRunAttr {
            data_in: &[0u8; 64],
            repeat: 10,
            ..Default::default()
        },
    )
    .unwrap();
    let info = prog_info(prog.as_fd()).unwrap();
    assert!(info.info.run_cnt >= 10, "run_cnt {}", info.info.run_cnt);
}

/// A UDP socket on 127.0.0.1:`port` with SO_REUSEPORT set before bind.
fn reuseport_socket(port: u16) -> UdpSocket {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket(2); the fd is owned by the UdpSocket right below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert!(raw >= 0);
    // SAFETY: socket(2) just returned this fd and nobody else owns it.
    let sock = unsafe { UdpSocket::from_raw_fd(raw) };
    let on: libc::c_int = 1;
    // SAFETY: the option value is a live c_int and its exact size is passed.
    let ret = unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(ret, 0);
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `addr` is a valid sockaddr_in and its exact size is passed.
    let ret = unsafe {
        libc::bind(
            raw,
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(ret, 0, "bind: {}", std::io::Error::last_os_error());
    sock
}

#[test]
fn reuseport_program_picks_for_the_group() {
    use bpf_sys::socket::attach_reuseport_prog;
    let counter = counter_map("sys_rp_count");
    let prog = counting_prog(
        bpf_prog_type::BPF_PROG_TYPE_SK_REUSEPORT,
        0,
        "sys_reuseport",
        &counter,
        1, // SK_PASS without a selection: the kernel falls back to hashing
    );
    let first = reuseport_socket(0);
    let port = first.local_addr().unwrap().port();
    let second = reuseport_socket(port);
    attach_reuseport_prog(first.as_fd(), prog.as_fd()).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(b"x", ("127.0.0.1", port)).unwrap();
    assert!(read_counter(&counter) >= 1, "reuseport program did not run");
    drop(second);
}

#[test]
fn token_create_is_refused_outside_a_user_namespace() {
    if common::kernel_lacks(
        "misc::token_create_is_refused_outside_a_user_namespace",
        "BPF_TOKEN_CREATE",
        "BPF tokens",
    ) {
        return;
    }
    let bpffs = std::fs::File::open(common::bpffs()).unwrap();
    // Tokens only come from a bpffs mounted inside a user namespace; the host's is refused.
    let err = bpf_sys::misc::token_create(bpffs.as_fd(), 0).unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::TokenCreate));
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP));
}
