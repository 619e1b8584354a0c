//! Maps, programs, pins, info and ids against the running kernel.

mod common;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use bpf_sys::generated::{bpf_map_type, bpf_prog_type};
use bpf_sys::ids::{ObjectKind, fd_by_id, ids};
use bpf_sys::info::{map_info, prog_info};
use bpf_sys::insn;
use bpf_sys::map::{BatchBuffers, MapFd};
use bpf_sys::obj::{obj_get, obj_pin};
use bpf_sys::prog::{ProgLoadAttr, prog_load};
use bpf_sys::test_run::{TestRunAttr, prog_test_run};
use bpf_sys::{BpfCommand, Command};
use common::{RemoveOnDrop, bpffs, hash_map, return_prog, unique};

fn kv(k: u32) -> ([u8; 4], [u8; 8]) {
    (k.to_ne_bytes(), (u64::from(k) * 1000 + 7).to_ne_bytes())
}

#[test]
fn hash_map_elements_iteration_and_batch() {
    let map = hash_map("sys_test_hash_map_long_name", 64);
    for k in 1..=10 {
        let (key, value) = kv(k);
        map.update(&key, &value, 0).unwrap();
    }
    let mut value = [0u8; 8];
    assert!(map.lookup(&3u32.to_ne_bytes(), &mut value, 0).unwrap());
    assert_eq!(u64::from_ne_bytes(value), 3007);
    assert!(!map.lookup(&99u32.to_ne_bytes(), &mut value, 0).unwrap());

    map.delete(&5u32.to_ne_bytes()).unwrap();
    let err = map.delete(&5u32.to_ne_bytes()).unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::MapDeleteElem));
    assert_eq!(err.errno(), Some(libc::ENOENT));

    let mut keys = Vec::new();
    let mut prev: Option<[u8; 4]> = None;
    let mut next = [0u8; 4];
    while map
        .next_key(prev.as_ref().map(|k| &k[..]), &mut next)
        .unwrap()
    {
        keys.push(u32::from_ne_bytes(next));
        prev = Some(next);
    }
    keys.sort_unstable();
    assert_eq!(keys, vec![1, 2, 3, 4, 6, 7, 8, 9, 10]);

    let mut out_batch = [0u8; 4];
    let mut bkeys = vec![0u8; 4 * 64];
    let mut bvalues = vec![0u8; 8 * 64];
    let outcome = map
        .lookup_batch(
            BatchBuffers {
                in_batch: None,
                out_batch: &mut out_batch,
                keys: &mut bkeys,
                values: &mut bvalues,
            },
            64,
            0,
        )
        .unwrap();
    assert!(outcome.done);
    assert_eq!(outcome.count, 9);
    for i in 0..outcome.count as usize {
        let k = u32::from_ne_bytes(bkeys[i * 4..i * 4 + 4].try_into().unwrap());
        let v = u64::from_ne_bytes(bvalues[i * 8..i * 8 + 8].try_into().unwrap());
        assert_eq!(v, u64::from(k) * 1000 + 7, "key {k}");
    }

    let (k11, v11) = kv(11);
    let (k12, v12) = kv(12);
    let written = map
        .update_batch(&[k11, k12].concat(), &[v11, v12].concat(), 0)
        .unwrap();
    assert_eq!(written, 2);
    assert!(map.lookup(&k12, &mut value, 0).unwrap());
    assert_eq!(map.delete_batch(&[k11, k12].concat(), 0).unwrap(), 2);
    assert!(!map.lookup(&k11, &mut value, 0).unwrap());
}

#[test]
fn short_buffers_are_refused_before_the_kernel_sees_them() {
    let map = hash_map("sys_short", 4);
    let mut small = [0u8; 4];
    let err = map.lookup(&1u32.to_ne_bytes(), &mut small, 0).unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::MapLookupElem));
    assert_eq!(err.io_error.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn pin_and_get_back_same_map() {
    let map = hash_map("sys_pinned", 4);
    let path = bpffs().join(unique("bpf_sys_test_pin_"));
    obj_pin(map.fd(), &path).unwrap();
    let _guard = RemoveOnDrop(path.clone());
    let again = obj_get(&path, 0).unwrap();
    let a = map_info(map.fd()).unwrap();
    let b = map_info(again.as_fd()).unwrap();
    assert_eq!(a.id(), b.id());
    assert_ne!(map.fd().as_raw_fd(), again.as_raw_fd());
    let reopened = MapFd::from_fd(again).unwrap();
    assert_eq!((reopened.key_size(), reopened.value_size()), (4, 8));
}

#[test]
fn map_info_and_id_enumeration() {
    let map = hash_map("sys_info_map", 7);
    let info = map_info(map.fd()).unwrap();
    assert_eq!(info.name, "sys_info_map");
    assert_eq!(info.map_type(), bpf_map_type::BPF_MAP_TYPE_HASH);
    assert_eq!(
        (
            info.info.key_size,
            info.info.value_size,
            info.info.max_entries
        ),
        (4, 8, 7)
    );
    let all: Vec<u32> = ids(ObjectKind::Map).collect::<Result<_, _>>().unwrap();
    assert!(all.contains(&info.id()), "{} not in {all:?}", info.id());
    let by_id = fd_by_id(ObjectKind::Map, info.id(), 0).unwrap();
    assert_eq!(map_info(by_id.as_fd()).unwrap().id(), info.id());
}

#[test]
fn socket_filter_test_run_and_prog_info() {
    let prog = return_prog(
        bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        "sys_test_socket_filter",
        42,
    );
    let data = [0u8; 64];
    let out = prog_test_run(
        prog.as_fd(),
        TestRunAttr {
            data_in: &data,
            repeat: 3,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.retval, 42);

    let info = prog_info(prog.as_fd()).unwrap();
    assert_eq!(info.name, "sys_test_socket");
    assert_eq!(info.prog_type(), bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER);
    assert!(info.map_ids.is_empty());
    let all: Vec<u32> = ids(ObjectKind::Prog).collect::<Result<_, _>>().unwrap();
    assert!(all.contains(&info.id()));
    let by_id = fd_by_id(ObjectKind::Prog, info.id(), 0).unwrap();
    assert_eq!(prog_info(by_id.as_fd()).unwrap().info.tag, info.info.tag);
    let xlated = bpf_sys::info::prog_xlated_insns(prog.as_fd()).unwrap();
    assert_eq!(xlated.len(), 2);
    assert_eq!((xlated[0].code, xlated[0].imm), (0xb7, 42));
    assert_eq!(xlated[1].code, 0x95);
}

#[test]
fn prog_info_lists_used_maps() {
    let map = hash_map("sys_used_map", 4);
    // r1 = map; r2 = fp - 4; *(u32 *)(fp - 4) = 0; call map_lookup_elem; r0 = 0; exit
    let [ld0, ld1] = insn::ld_map_fd(1, map.fd().as_raw_fd());
    let insns = [
        insn::st_mem(insn::BPF_W, 10, -4, 0),
        ld0,
        ld1,
        insn::mov64_reg(2, 10),
        insn::add64_imm(2, -4),
        insn::call_helper(bpf_sys::generated::bpf_func_id::BPF_FUNC_map_lookup_elem),
        insn::mov64_imm(0, 0),
        insn::exit(),
    ];
    let prog = prog_load(&ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        name: "sys_uses_map",
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .unwrap();
    let info = prog_info(prog.as_fd()).unwrap();
    assert_eq!(info.map_ids, vec![map_info(map.fd()).unwrap().id()]);
}

#[test]
fn invalid_fd_names_command_and_ebadf() {
    // SAFETY: fd 1_000_000 is far above any fd this process opens; the kernel just rejects it.
    let bad = unsafe { BorrowedFd::borrow_raw(1_000_000) };
    let err = prog_test_run(bad, TestRunAttr::default()).unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::ProgTestRun));
    assert_eq!(err.errno(), Some(libc::EBADF));
    assert_eq!(
        err.to_string(),
        "bpf(BPF_PROG_TEST_RUN) failed: Bad file descriptor (os error 9)"
    );
}

#[test]
fn verifier_rejection_carries_log() {
    // r0 = r2 reads a register nobody wrote.
    let insns = [insn::mov64_reg(0, 2), insn::exit()];
    let err = prog_load(&ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        name: "sys_bad",
        insns: &insns,
        license: "GPL",
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::ProgLoad));
    assert_eq!(err.errno(), Some(libc::EACCES));
    assert!(
        err.verifier_log.text.contains("R2 !read_ok"),
        "{}",
        err.verifier_log
    );
    assert!(!err.verifier_log.truncated);
    assert!(err.to_string().contains("R2 !read_ok"));
}

#[test]
fn verifier_log_grows_until_it_fits() {
    // A long straight-line program with log_level 2 writes far more than the first buffer.
    let mut insns = vec![insn::mov64_imm(0, 0); 4000];
    insns.push(insn::exit());
    let loaded = bpf_sys::prog::prog_load_with_log(&ProgLoadAttr {
        prog_type: bpf_prog_type::BPF_PROG_TYPE_SOCKET_FILTER,
        name: "sys_long_log",
        insns: &insns,
        license: "GPL",
        log_level: 2,
        ..Default::default()
    })
    .unwrap();
    assert!(
        loaded.verifier_log.text.len() > 64 * 1024,
        "{}",
        loaded.verifier_log.text.len()
    );
    assert!(loaded.verifier_log.text.contains("processed 4001 insns"));
}

#[test]
fn queue_push_peek_pop_and_freeze() {
    let queue = MapFd::create(&bpf_sys::map::MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_QUEUE,
        key_size: 0,
        value_size: 4,
        max_entries: 4,
        name: "sys_queue",
        ..Default::default()
    })
    .unwrap();
    for v in [10u32, 20] {
        queue.update(&[], &v.to_ne_bytes(), 0).unwrap();
    }
    let mut value = [0u8; 4];
    assert!(queue.lookup(&[], &mut value, 0).unwrap());
    assert_eq!(u32::from_ne_bytes(value), 10);
    assert!(queue.lookup_and_delete(&[], &mut value, 0).unwrap());
    assert_eq!(u32::from_ne_bytes(value), 10);
    assert!(queue.lookup_and_delete(&[], &mut value, 0).unwrap());
    assert_eq!(u32::from_ne_bytes(value), 20);
    assert!(!queue.lookup_and_delete(&[], &mut value, 0).unwrap());

    queue.freeze().unwrap();
    let err = queue.update(&[], &1u32.to_ne_bytes(), 0).unwrap_err();
    assert_eq!(err.command, Command::Bpf(BpfCommand::MapUpdateElem));
    assert_eq!(err.errno(), Some(libc::EPERM));
}

#[test]
fn per_cpu_values_span_every_possible_cpu() {
    let cpus = bpf_sys::util::possible_cpu_count().unwrap();
    let map = MapFd::create(&bpf_sys::map::MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        name: "sys_percpu",
        ..Default::default()
    })
    .unwrap();
    // 4-byte values occupy 8-byte slots per CPU.
    assert_eq!(map.value_buf_size(), 8 * cpus);
    let mut values = vec![0u8; map.value_buf_size()];
    for cpu in 0..cpus {
        values[cpu * 8..cpu * 8 + 4].copy_from_slice(&(cpu as u32 + 100).to_ne_bytes());
    }
    map.update(&0u32.to_ne_bytes(), &values, 0).unwrap();
    let mut back = vec![0u8; map.value_buf_size()];
    assert!(map.lookup(&0u32.to_ne_bytes(), &mut back, 0).unwrap());
    assert_eq!(back, values);
    let mut one_cpu = [0u8; 4];
    assert!(map.lookup(&0u32.to_ne_bytes(), &mut one_cpu, 0).is_err());
}

#[test]
fn map_in_map_holds_inner_map_by_fd_and_reports_id() {
    let inner = hash_map("sys_inner", 4);
    let outer = MapFd::create(&bpf_sys::map::MapCreateAttr {
        map_type: bpf_map_type::BPF_MAP_TYPE_ARRAY_OF_MAPS,
        key_size: 4,
        value_size: 4,
        max_entries: 2,
        inner_map_fd: Some(inner.fd()),
        name: "sys_outer",
        ..Default::default()
    })
    .unwrap();
    outer
        .update(
            &1u32.to_ne_bytes(),
            &inner.fd().as_raw_fd().to_ne_bytes(),
            0,
        )
        .unwrap();
    let mut id = [0u8; 4];
    assert!(outer.lookup(&1u32.to_ne_bytes(), &mut id, 0).unwrap());
    assert_eq!(u32::from_ne_bytes(id), map_info(inner.fd()).unwrap().id());
}
