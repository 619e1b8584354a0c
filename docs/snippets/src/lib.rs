//! Every Rust snippet of docs/GUIDE.md, compiled: each becomes a function (see build.rs) that
//! gets a loaded `bpf` and a map fd to share, and the few types the snippets name as examples.
//! A snippet that no longer matches the API fails `cargo build --workspace`.

#![allow(dead_code)]

use bpf_programs::zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The event type the reading snippets decode.
#[derive(Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[zerocopy(crate = "bpf_programs::zerocopy")]
#[repr(C)]
struct MyEvent {
    pid: u32,
    uid: u32,
}

/// The command type the user ring buffer snippet writes.
#[derive(Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[zerocopy(crate = "bpf_programs::zerocopy")]
#[repr(C)]
struct MyCommand {
    op: u32,
    value: u32,
}

include!(concat!(env!("OUT_DIR"), "/snippets.rs"));
