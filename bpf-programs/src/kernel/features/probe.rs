//! Probes for a feature table (program types, map types, attach types, helpers): each loads a
//! minimal program or creates a minimal map and reads the kernel's answer. Nothing is cached;
//! these are for tools that report what a kernel supports, not for the loader's fast path.

use std::os::fd::AsFd;

use bpf_sys::generated::{bpf_attach_type as at, bpf_map_type as mt, bpf_prog_type as pt};
use bpf_sys::insn::{call_helper, exit, mov64_imm};
use bpf_sys::map::{MapCreateAttr, map_create};
use bpf_sys::prog::{ProgLoadAttr, prog_load};

use super::{kernel_knows_map_type, kernel_knows_prog_type};

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// The kernel took it.
    Supported,
    /// The kernel refused it as unknown or unsupported.
    NotSupported,
    /// The probe could not tell; the reason says why (and what is known otherwise).
    Unknown(String),
}

impl Support {
    /// `yes`, `no` or `?`.
    pub fn short(&self) -> &'static str {
        match self {
            Support::Supported => "yes",
            Support::NotSupported => "no",
            Support::Unknown(_) => "?",
        }
    }
}

/// What a type needing a target (a BTF id, a struct_ops value type) is judged by: the kernel's
/// BTF enum knows it or not.
fn by_enum(known: Option<bool>, what: &str) -> Support {
    match known {
        Some(true) => Support::Unknown(format!(
            "{what} needs a target to load; the kernel's BTF knows the type"
        )),
        Some(false) => Support::NotSupported,
        None => Support::Unknown(format!("{what} needs a target to load; no kernel BTF")),
    }
}

/// The attach type a program type must be loaded with (0 where none is needed).
fn expected_attach_type(prog_type: u32) -> u32 {
    match prog_type {
        pt::BPF_PROG_TYPE_CGROUP_SOCK_ADDR => at::BPF_CGROUP_INET4_CONNECT,
        pt::BPF_PROG_TYPE_CGROUP_SOCKOPT => at::BPF_CGROUP_GETSOCKOPT,
        pt::BPF_PROG_TYPE_SK_LOOKUP => at::BPF_SK_LOOKUP,
        pt::BPF_PROG_TYPE_NETFILTER => at::BPF_NETFILTER,
        _ => 0,
    }
}

fn needs_btf_target(prog_type: u32) -> bool {
    matches!(
        prog_type,
        pt::BPF_PROG_TYPE_TRACING
            | pt::BPF_PROG_TYPE_EXT
            | pt::BPF_PROG_TYPE_LSM
            | pt::BPF_PROG_TYPE_STRUCT_OPS
    )
}

/// Flags a program type must be loaded with (syscall programs are sleepable only).
fn prog_flags(prog_type: u32) -> u32 {
    if prog_type == pt::BPF_PROG_TYPE_SYSCALL {
        1 << 4 // BPF_F_SLEEPABLE
    } else {
        0
    }
}

fn load(prog_type: u32, attach_type: u32, insns: &[bpf_sys::generated::bpf_insn]) -> Support {
    match prog_load(&ProgLoadAttr {
        prog_type,
        expected_attach_type: attach_type,
        insns,
        license: "GPL",
        prog_flags: prog_flags(prog_type),
        ..Default::default()
    }) {
        Ok(_) => Support::Supported,
        Err(e) if matches!(e.errno(), Some(libc::EINVAL) | Some(libc::E2BIG)) => {
            Support::NotSupported
        }
        Err(e) => Support::Unknown(format!("load failed: {}", e.io_error)),
    }
}

/// Whether programs of `prog_type` load (`mov r0, 0; exit`).
pub fn probe_program_type(prog_type: u32) -> Support {
    if needs_btf_target(prog_type) {
        return by_enum(kernel_knows_prog_type(prog_type), "this program type");
    }
    load(
        prog_type,
        expected_attach_type(prog_type),
        &[mov64_imm(0, 0), exit()],
    )
}

/// The program type an attach type belongs to (for attach types a plain load can probe).
fn attach_program_type(attach_type: u32) -> Option<u32> {
    use at::*;
    Some(match attach_type {
        BPF_CGROUP_INET_INGRESS | BPF_CGROUP_INET_EGRESS => pt::BPF_PROG_TYPE_CGROUP_SKB,
        BPF_CGROUP_INET_SOCK_CREATE
        | BPF_CGROUP_INET_SOCK_RELEASE
        | BPF_CGROUP_INET4_POST_BIND
        | BPF_CGROUP_INET6_POST_BIND => pt::BPF_PROG_TYPE_CGROUP_SOCK,
        BPF_CGROUP_INET4_BIND
        | BPF_CGROUP_INET6_BIND
        | BPF_CGROUP_INET4_CONNECT
        | BPF_CGROUP_INET6_CONNECT
        | BPF_CGROUP_UDP4_SENDMSG
        | BPF_CGROUP_UDP6_SENDMSG
        | BPF_CGROUP_UDP4_RECVMSG
        | BPF_CGROUP_UDP6_RECVMSG
        | BPF_CGROUP_INET4_GETPEERNAME
        | BPF_CGROUP_INET6_GETPEERNAME
        | BPF_CGROUP_INET4_GETSOCKNAME
        | BPF_CGROUP_INET6_GETSOCKNAME
        | BPF_CGROUP_UNIX_CONNECT
        | BPF_CGROUP_UNIX_SENDMSG
        | BPF_CGROUP_UNIX_RECVMSG
        | BPF_CGROUP_UNIX_GETPEERNAME
        | BPF_CGROUP_UNIX_GETSOCKNAME => pt::BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        BPF_CGROUP_GETSOCKOPT | BPF_CGROUP_SETSOCKOPT => pt::BPF_PROG_TYPE_CGROUP_SOCKOPT,
        BPF_SK_LOOKUP => pt::BPF_PROG_TYPE_SK_LOOKUP,
        BPF_NETFILTER => pt::BPF_PROG_TYPE_NETFILTER,
        BPF_XDP_DEVMAP | BPF_XDP_CPUMAP | BPF_XDP => pt::BPF_PROG_TYPE_XDP,
        BPF_SK_REUSEPORT_SELECT | BPF_SK_REUSEPORT_SELECT_OR_MIGRATE => {
            pt::BPF_PROG_TYPE_SK_REUSEPORT
        }
        BPF_TRACE_KPROBE_MULTI | BPF_TRACE_UPROBE_MULTI | BPF_TRACE_KPROBE_SESSION => {
            pt::BPF_PROG_TYPE_KPROBE
        }
        _ => return None,
    })
}

/// Whether a program can be loaded for `attach_type` (types needing a BTF target or nothing
/// at load are judged by the kernel's BTF enum).
pub fn probe_attach_type(attach_type: u32) -> Support {
    match attach_program_type(attach_type) {
        Some(prog_type) => load(prog_type, attach_type, &[mov64_imm(0, 0), exit()]),
        None => {
            let known = super::kernel_enum::kernel_knows_attach_type(attach_type);
            match known {
                Some(true) => Support::Unknown(
                    "checked at attach time; the kernel's BTF knows the attach type".into(),
                ),
                Some(false) => Support::NotSupported,
                None => Support::Unknown("checked at attach time; no kernel BTF".into()),
            }
        }
    }
}

/// Whether a program of `prog_type` may call helper `helper` (the verifier's "unknown func").
pub fn probe_helper(prog_type: u32, helper: u32) -> Support {
    if needs_btf_target(prog_type) {
        return Support::Unknown("program type needs a target to load".into());
    }
    use bpf_sys::generated::bpf_func_id as f;
    if matches!(
        helper,
        f::BPF_FUNC_trace_printk | f::BPF_FUNC_trace_vprintk | f::BPF_FUNC_probe_write_user
    ) {
        // Loading a caller of these prints a warning banner in the kernel log.
        return Support::Unknown("not probed: loading a caller warns in the kernel log".into());
    }
    let insns = [call_helper(helper), mov64_imm(0, 0), exit()];
    match prog_load(&ProgLoadAttr {
        prog_type,
        expected_attach_type: expected_attach_type(prog_type),
        insns: &insns,
        license: "GPL",
        prog_flags: prog_flags(prog_type),
        ..Default::default()
    }) {
        Ok(_) => Support::Supported,
        Err(e) => {
            let log = &e.verifier_log.text;
            if log.contains("invalid func ")
                || log.contains("unknown func ")
                || log.contains("program of this type cannot use helper ")
            {
                Support::NotSupported
            } else if log.is_empty() {
                Support::Unknown(format!("load failed without a log: {}", e.io_error))
            } else {
                // Refused for its arguments, after the helper itself was accepted.
                Support::Supported
            }
        }
    }
}

/// Whether maps of `map_type` can be created (with the smallest definition the type takes).
pub fn probe_map_type(map_type: u32) -> Support {
    let page = bpf_sys::util::page_size() as u32;
    let (mut key, mut value, mut max, mut flags) = (4u32, 4u32, 1u32, 0u32);
    match map_type {
        mt::BPF_MAP_TYPE_LPM_TRIE => {
            key = 8;
            flags = 1; // BPF_F_NO_PREALLOC
        }
        mt::BPF_MAP_TYPE_STACK_TRACE => value = 8,
        mt::BPF_MAP_TYPE_CGROUP_STORAGE | mt::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE => {
            key = 16;
            max = 0;
        }
        mt::BPF_MAP_TYPE_QUEUE | mt::BPF_MAP_TYPE_STACK | mt::BPF_MAP_TYPE_BLOOM_FILTER => key = 0,
        mt::BPF_MAP_TYPE_RINGBUF | mt::BPF_MAP_TYPE_USER_RINGBUF => {
            (key, value, max) = (0, 0, page);
        }
        mt::BPF_MAP_TYPE_ARENA => {
            (key, value, max) = (0, 0, 1);
            flags = 1 << 10; // BPF_F_MMAPABLE
        }
        mt::BPF_MAP_TYPE_SK_STORAGE
        | mt::BPF_MAP_TYPE_INODE_STORAGE
        | mt::BPF_MAP_TYPE_TASK_STORAGE
        | mt::BPF_MAP_TYPE_CGRP_STORAGE => {
            return by_enum(
                kernel_knows_map_type(map_type),
                "this map type (local storage needs BTF)",
            );
        }
        mt::BPF_MAP_TYPE_STRUCT_OPS => {
            return by_enum(kernel_knows_map_type(map_type), "this map type");
        }
        _ => {}
    }
    let inner = if matches!(
        map_type,
        mt::BPF_MAP_TYPE_ARRAY_OF_MAPS | mt::BPF_MAP_TYPE_HASH_OF_MAPS
    ) {
        match map_create(&MapCreateAttr {
            map_type: mt::BPF_MAP_TYPE_ARRAY,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            ..Default::default()
        }) {
            Ok(fd) => Some(fd),
            Err(e) => return Support::Unknown(format!("inner map: {}", e.io_error)),
        }
    } else {
        None
    };
    match map_create(&MapCreateAttr {
        map_type,
        key_size: key,
        value_size: value,
        max_entries: max,
        map_flags: flags,
        inner_map_fd: inner.as_ref().map(|fd| fd.as_fd()),
        ..Default::default()
    }) {
        Ok(_) => Support::Supported,
        Err(e) if e.errno() == Some(libc::EINVAL) => Support::NotSupported,
        Err(e) => Support::Unknown(format!("create failed: {}", e.io_error)),
    }
}
